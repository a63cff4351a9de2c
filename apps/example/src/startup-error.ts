/** Start-up failed because of a setting (a port in use, an unknown host): the message names the variable. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}
