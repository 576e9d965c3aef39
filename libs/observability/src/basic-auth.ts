import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export interface BasicAuthOptions {
  user: string;
  password: string;
  realm: string;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Express middleware: HTTP basic authentication against one user and password. Compares
 * digests in constant time; answers 401 with a WWW-Authenticate challenge otherwise.
 */
export function basicAuth({ user, password, realm }: BasicAuthOptions) {
  const expected = digest(`${user}:${password}`);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const given = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    if (match && timingSafeEqual(digest(given), expected)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .json({ statusCode: 401, message: 'authentication required', error: 'Unauthorized' });
  };
}
