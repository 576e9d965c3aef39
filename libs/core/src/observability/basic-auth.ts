import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) =>
  createHash('sha256').update(text, 'utf8').digest();

/**
 * One user name and password for HTTP basic authentication. The given pair is compared by
 * SHA-256 digest with timingSafeEqual, so neither the length nor the first wrong character
 * of a guess shows in the time the answer takes.
 */
export class BasicCredentials {
  private readonly expected: Buffer;

  constructor(user: string, password: string) {
    this.expected = digest(`${user}:${password}`);
  }

  /** True when the Authorization header carries exactly this user and password. */
  matches(authorization: string | undefined): boolean {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    const given = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    // The digest is compared even without a header, so that a missing header costs the same.
    return timingSafeEqual(digest(given), this.expected) && match !== null;
  }
}
