/** An HTTP basic authentication header value. */
export function basicAuthHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Operator credentials for tests: the variables to start a box office with... */
export const OPERATOR_ENV = {
  OPERATOR_USER: 'operator',
  OPERATOR_PASSWORD: 'correct horse battery staple',
} as const;

/** ...and the Authorization header that carries them: `.set('Authorization', operatorAuth)`. */
export const operatorAuth = basicAuthHeader(
  OPERATOR_ENV.OPERATOR_USER,
  OPERATOR_ENV.OPERATOR_PASSWORD,
);
