/** The media types a GraphQL answer over HTTP comes as (Apollo's choice among them). */
const ANSWER_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/**
 * Whether an `Accept` header admits a JSON answer. Apollo checks only once the operation has
 * run, so a mutation sent with `Accept: text/event-stream` was stored and then answered 406: a
 * client that retried on that sent the mail twice. Asked before anything runs instead.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === '*/*' || type === 'application/*' || ANSWER_TYPES.has(type);
  });
}
