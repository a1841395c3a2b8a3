import { z } from 'zod';

// Field shapes every part of the configuration schema reads variables with.

/**
 * A whole number in [min, max], written in decimal digits only. Out of range, the problem names
 * the range (zod's own words, "Too big: expected number to be <=65535", name neither end).
 */
export const wholeNumber = (min: number, max: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, range)
    .transform(Number)
    .pipe(z.number().int().min(min, range).max(max, range));
};

/** Unset and empty are the same: null. */
export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? null : value));

/**
 * A bearer token set in the environment (API_TOKEN, METRICS_TOKEN): what an `Authorization:
 * Bearer` header can carry (visible ASCII, no spaces, at most 512). Another value started the
 * service and then never matched, locking everyone out without a word.
 */
export const optionalBearerToken = optionalText.pipe(
  z
    .string()
    .regex(
      /^[\x21-\x7e]{1,512}$/,
      'must be 1-512 visible ASCII characters without spaces (it is sent as "Authorization: Bearer <token>")',
    )
    .nullable(),
);
