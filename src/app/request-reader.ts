import type { Config } from "../schemas/config.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { type AcceptanceStatus, toAcceptanceStatus } from "../http/acceptance-status.js";
import { requestQueryOf, type RequestQueryInput } from "../store/request-query.js";
import { readStatus, type StatusReport } from "../store/status.js";
import { rateLimiterFromConfig, requestStoreFromConfig } from "./from-config.js";

/** A page of requests, each as GET /v1/acceptances/{id} answers it, and the next page's cursor (null: none). */
export interface AcceptancePage {
  items: AcceptanceStatus[];
  next: string | null;
}

/** What an operator reads of a deployment: the CLI's `status`, and the library's listings. */
export interface RequestReader {
  /** The status read model (store/status.ts). */
  status(): Promise<StatusReport>;
  /**
   * A page of requests (store/request-query.ts: `state`, `identifier`, `catalog`, `cursor`,
   * `limit`); GET /v1/acceptances answers the same. @throws ListQueryError naming each broken rule
   */
  list(query?: RequestQueryInput): Promise<AcceptancePage>;
  /** Closes what it opened (not `redis`). */
  close(): Promise<void>;
}

/**
 * Reads the deployment of `config` (QUEUE_PREFIX, REQUESTS_QUEUE, OUTCOMES_QUEUE, RATE_LIMIT_KEY)
 * over `redis`, writing nothing.
 */
export function createRequestReader(config: Config, redis: RedisConnection): RequestReader {
  const store = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
  const limiter = rateLimiterFromConfig(config, redis);
  return {
    status: () => readStatus({ store, limiter, limitKey: config.RATE_LIMIT_KEY }),
    async list(query = {}) {
      const page = await store.listRequests(requestQueryOf(query));
      return {
        items: page.items.map((item) => toAcceptanceStatus(item.id, item.job, item.outcome)),
        next: page.next,
      };
    },
    close: () => store.close(),
  };
}
