import { Module } from '@nestjs/common';
import { HISTOGRAM_ENCODINGS, type HistogramEncoding } from './histogram.js';

/**
 * The Olympics listeners' own settings, apart from podium's: the apps read them from
 * HISTOGRAM_ENCODING and ALERTS_MAX (olympicsSettingsFromEnv). Injected by this class.
 */
export class OlympicsSettings {
  /** The hour-of-day histograms' layout: u32 counters, or the seed's u8 for old readers. */
  histogramEncoding: HistogramEncoding = 'u32';
  /** How many alerts the `alerts` list keeps (newest first). */
  alertsMax = 1000;
}

/** The settings from environment variables; throws one line naming a bad variable. */
export function olympicsSettingsFromEnv(
  env: Record<string, string | undefined>,
): OlympicsSettings {
  const settings = new OlympicsSettings();
  const encoding = env.HISTOGRAM_ENCODING;
  if (encoding !== undefined && encoding !== '') {
    if (!(HISTOGRAM_ENCODINGS as readonly string[]).includes(encoding))
      throw new Error(
        `HISTOGRAM_ENCODING must be one of ${HISTOGRAM_ENCODINGS.join(', ')}`,
      );
    settings.histogramEncoding = encoding as HistogramEncoding;
  }
  const max = env.ALERTS_MAX;
  if (max !== undefined && max !== '') {
    if (!/^\d+$/.test(max) || Number(max) < 1)
      throw new Error('ALERTS_MAX must be an integer of at least 1');
    settings.alertsMax = Number(max);
  }
  return settings;
}

/**
 * Provides OlympicsSettings from the process's environment, for the listener modules that
 * need them (the apps' variables are read here, in the Olympics code, never by podium).
 * A test gives its own with `overrideProvider(OlympicsSettings).useValue(...)`.
 */
@Module({
  providers: [
    {
      provide: OlympicsSettings,
      useFactory: () => olympicsSettingsFromEnv(process.env),
    },
  ],
  exports: [OlympicsSettings],
})
export class OlympicsSettingsModule {}
