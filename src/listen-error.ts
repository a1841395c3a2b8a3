/**
 * A listen() failure said so that a person knows which setting to change: "address already in
 * use" on its own does not say that it was PORT (or EMBEDDED_SMTP_PORT) and what to do.
 */
export function describeListenError(error: unknown, setting: string, address: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    return new Error(
      `${address} is already in use (${setting}): stop what listens there, or set ${setting} to a free port`,
      { cause: error },
    );
  }
  if (code === 'EACCES') {
    return new Error(
      `not allowed to listen on ${address} (${setting}): ports below 1024 need privileges; choose a higher port`,
      { cause: error },
    );
  }
  if (code === 'EADDRNOTAVAIL') {
    return new Error(`${address} is not an address of this machine (${setting})`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}
