/** ANSI colours, only when writing to a terminal (and NO_COLOR is unset). */
export function palette(enabled: boolean) {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    gray: wrap(90, 39),
  };
}

export type Palette = ReturnType<typeof palette>;

export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Palette {
  return palette(stream.isTTY === true && !env['NO_COLOR']);
}
