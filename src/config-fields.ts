import { z } from 'zod';

// Field shapes every part of the configuration schema reads variables with.

/** A whole number in [min, max], written in decimal digits only. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Unset and empty are the same: null. */
export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? null : value));
