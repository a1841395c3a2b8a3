import type { Logger } from '../logger.ts';
import type { SubmissionRefusal } from './submission-server.ts';

/**
 * A refusal in the log, so that an operator can read why an application's mail never reached
 * the queue: what the client was answered, from where, as which token (never a secret: the
 * texts are ours or smtp-server's, and AUTH's password is in none). A failure of our own is an
 * error with its cause; a command smtp-server refused (a scanner's junk, a client's typo) is
 * debug, since anyone who can connect could fill the log with those.
 */
export function logSubmissionRefusal(
  log: Pick<Logger, 'error' | 'warn' | 'debug'>,
  refusal: SubmissionRefusal,
): void {
  const { reason, code, enhancedStatus, text, remoteAddress, tokenName, error } = refusal;
  const fields = {
    audit: 'smtp.refused',
    reason,
    code,
    ...(enhancedStatus === '' ? {} : { enhancedStatus }),
    remoteAddress,
    // `tokenName`: the logger masks every field called `token`, which would hide the name.
    ...(tokenName === null ? {} : { tokenName }),
    ...(error === undefined ? {} : { err: error }),
  };
  const who = tokenName === null ? remoteAddress : `${remoteAddress} (token "${tokenName}")`;
  const line = `SMTP submission from ${who} refused (${reason}): ${[code, enhancedStatus, text].filter((part) => part !== '').join(' ')}`;
  if (reason === 'local_error') log.error(fields, line);
  else if (reason === 'command_rejected') log.debug(fields, line);
  else log.warn(fields, line);
}
