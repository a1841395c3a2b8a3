import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  CREATE_WEBHOOK_ENDPOINT,
  DELETE_WEBHOOK_ENDPOINT,
  REDELIVER_WEBHOOK,
  ROTATE_WEBHOOK_SECRET,
  SEND_TEST_WEBHOOK,
  UPDATE_WEBHOOK_ENDPOINT,
  WEBHOOK_ENDPOINTS_QUERY,
  WEBHOOK_TICK_SUBSCRIPTION,
} from '../api/documents.ts';
import { GraphQLRequestError, graphql, problemText } from '../api/http.ts';
import { follow } from '../api/live.ts';
import type { WebhookEndpoint, WebhookEventType } from '../api/types.ts';

/**
 * How often the log is read again while the page is open: retries happen on the server's
 * schedule and nothing pushes them, so the page asks.
 */
export const WEBHOOK_REFRESH_MS = 3_000;
/** Deliveries shown per endpoint, newest first. */
export const WEBHOOK_LOG_SIZE = 20;

/** A secret the service shows once: a new endpoint's, or a rotated one. */
export interface RevealedSecret {
  url: string;
  secret: string;
  rotated: boolean;
}

/** An action's outcome: null when it worked, else a message for a person. */
type Problem = string | null;

export interface WebhookEndpointList {
  endpoints: WebhookEndpoint[] | null;
  error: string | null;
  /** The token may not manage webhooks (READ): the page says so instead of an error. */
  forbidden: boolean;
  create(input: {
    url: string;
    events: WebhookEventType[];
    description: string;
  }): Promise<{ revealed: RevealedSecret } | { problem: string }>;
  rotate(id: string): Promise<{ revealed: RevealedSecret } | { problem: string }>;
  setEnabled(id: string, enabled: boolean): Promise<Problem>;
  remove(id: string): Promise<Problem>;
  sendTest(id: string): Promise<Problem>;
  redeliver(deliveryId: string): Promise<Problem>;
}

const isForbidden = (error: unknown) =>
  error instanceof GraphQLRequestError && error.code === 'FORBIDDEN';

const problemOf = (error: unknown) => problemText(error) ?? 'an API token is needed';

/**
 * The outgoing-webhook endpoints and their logs, read again after actions, when the queue's
 * figures change and every few seconds (retries move nothing else).
 */
export function useWebhookEndpoints(epoch: number): WebhookEndpointList {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [forbidden, setForbidden] = useState(false);
  const inFlight = useRef(0);
  const latest = useRef(0);
  /** A READ token stays refused until the token changes (epoch): no point asking again. */
  const refused = useRef(false);

  const reload = useCallback(async (): Promise<void> => {
    const sequence = ++latest.current;
    inFlight.current += 1;
    try {
      const data = await graphql<{ webhookEndpoints: WebhookEndpoint[] }>(WEBHOOK_ENDPOINTS_QUERY, {
        first: WEBHOOK_LOG_SIZE,
      });
      // An older read answering late must not undo a newer one.
      if (sequence !== latest.current) return;
      setEndpoints(data.webhookEndpoints);
      setError(null);
      setForbidden(false);
      refused.current = false;
    } catch (reason) {
      if (sequence !== latest.current) return;
      if (isForbidden(reason)) {
        refused.current = true;
        setForbidden(true);
      } else setError(problemText(reason));
    } finally {
      inFlight.current -= 1;
    }
  }, []);

  useEffect(() => {
    setEndpoints(null);
    setForbidden(false);
    refused.current = false;
    void reload();
    const timer = setInterval(() => {
      if (!document.hidden && !refused.current && inFlight.current === 0) void reload();
    }, WEBHOOK_REFRESH_MS);
    // Mail moving means events going out: read the log when the figures change.
    let last: string | null = null;
    const stop = follow<{ queueStats: Record<string, number> }>(
      WEBHOOK_TICK_SUBSCRIPTION,
      () => ({}),
      {
        next: ({ queueStats }) => {
          const figures = JSON.stringify(queueStats);
          if (last !== null && figures !== last && !refused.current && inFlight.current === 0) {
            void reload();
          }
          last = figures;
        },
      },
    );
    return () => {
      clearInterval(timer);
      stop();
    };
  }, [epoch]);

  const act = async (query: string, variables: Record<string, unknown>): Promise<Problem> => {
    try {
      await graphql(query, variables);
      return null;
    } catch (reason) {
      return problemOf(reason);
    } finally {
      await reload();
    }
  };

  const reveal = async (
    query: string,
    variables: Record<string, unknown>,
    field: 'createWebhookEndpoint' | 'rotateWebhookSecret',
  ) => {
    try {
      const data = await graphql<
        Record<typeof field, { secret: string; endpoint: { id: string; url: string } }>
      >(query, variables);
      const { secret, endpoint } = data[field];
      return {
        revealed: { url: endpoint.url, secret, rotated: field === 'rotateWebhookSecret' },
      };
    } catch (reason) {
      return { problem: problemOf(reason) };
    } finally {
      await reload();
    }
  };

  return {
    endpoints,
    error,
    forbidden,
    create: ({ url, events, description }) =>
      reveal(
        CREATE_WEBHOOK_ENDPOINT,
        { input: { url: url.trim(), events, description: description.trim() || null } },
        'createWebhookEndpoint',
      ),
    rotate: (id) => reveal(ROTATE_WEBHOOK_SECRET, { id }, 'rotateWebhookSecret'),
    setEnabled: (id, enabled) => act(UPDATE_WEBHOOK_ENDPOINT, { id, enabled }),
    remove: (id) => act(DELETE_WEBHOOK_ENDPOINT, { id }),
    sendTest: (id) => act(SEND_TEST_WEBHOOK, { id }),
    redeliver: (deliveryId) => act(REDELIVER_WEBHOOK, { deliveryId }),
  };
}
