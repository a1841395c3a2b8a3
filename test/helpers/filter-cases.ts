// What "subject contains, case-insensitively" and "recipient is, case-insensitively" mean
// (src/db/message-filter.ts), as a table of cases with the answers written out: checked against
// every path that filters messages.

export const SUBJECT_CASES: [subject: string, term: string, matches: boolean][] = [
  ['Invoice for March', 'invoice', true],
  ['INVOICE', 'nvoic', true],
  ['École d’été', 'ÉCOLE', true],
  ['École d’été', 'ecole', false], // case, not accents
  ['Straße', 'STRAßE', true],
  ['Straße', 'strasse', false],
  ['ΣΟΦΙΑ', 'σοφια', true],
  ['ΟΔΟΣ', 'οδος', true], // final sigma
  ['İstanbul', 'İSTANBUL', true],
  ['\u212Aelvin scale', 'kelvin', true], // the Kelvin sign folds to a plain k
  ['100% sure_thing', '0% s', true],
  ['100 percent', '0% ', false], // % is a character, not a wildcard
  ['a_b', 'a_b', true],
  ['axb', 'a_b', false], // _ too
  ['back\\slash', 'k\\s', true],
  ['say "hi" now', '"hi"', true],
  ['short', 'or', true], // shorter than a trigram
  ['nothing here', 'absent', false],
];

export const RECIPIENT_CASES: [stored: string, asked: string, matches: boolean][] = [
  ['Ada@Example.COM', 'ada@example.com', true],
  ['ada@example.com', 'ADA@EXAMPLE.COM', true],
  ['ada@example.com', 'ada@example.co', false],
];
