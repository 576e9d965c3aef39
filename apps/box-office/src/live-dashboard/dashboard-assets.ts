import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the dashboard is served. */
export const LIVE_DASHBOARD_PATH = '/dashboard';

// The page's files sit beside this module (the build copies public/ into dist/).
const publicFile = (file: string) =>
  fileURLToPath(new URL(`./public/${file}`, import.meta.url));
// chart.js exports no path to its UMD build, so it is found beside its main file.
const chartJsDist = dirname(createRequire(import.meta.url).resolve('chart.js'));

export const DASHBOARD_PAGE = publicFile('index.html');

/** The only files served under /dashboard/assets/: nothing is fetched from elsewhere. */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'dashboard.js': publicFile('dashboard.js'),
  'dashboard.css': publicFile('dashboard.css'),
  'chart.umd.min.js': join(chartJsDist, 'chart.umd.min.js'),
};

/**
 * The page may load scripts, styles and data from the box office only, and nothing may frame
 * it: even a name that slipped into the page as markup could neither run nor call out.
 */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};
