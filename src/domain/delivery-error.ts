/** Why a delivery attempt failed, as the contract's `DeliveryError` describes it. */
export const DELIVERY_ERROR_CODES = [
  'CONNECTION',
  'TIMEOUT',
  'TLS',
  'AUTH',
  'SENDER_REJECTED',
  'RECIPIENT_REJECTED',
  'MESSAGE_REJECTED',
  'PROTOCOL',
  'CONFIG',
  'UNKNOWN',
] as const;

export type DeliveryErrorCode = (typeof DELIVERY_ERROR_CODES)[number];

export interface DeliveryError {
  code: DeliveryErrorCode;
  /** One line for a person; never contains a password. */
  message: string;
  /** SMTP reply code, e.g. 550. */
  responseCode: number | null;
  /** RFC 3463 enhanced status, e.g. "5.1.1". */
  enhancedStatus: string | null;
  /** The SMTP command or phase that failed, e.g. "RCPT TO", "CONN", "STARTTLS", "AUTH PLAIN". */
  command: string | null;
  /** The server's reply, verbatim. */
  response: string | null;
  /** True: retrying cannot help, the message is abandoned at once. */
  permanent: boolean;
  /** What a person should do about it. */
  hint: string | null;
}
