/**
 * Identifiers and ARNs in the shapes the model requires: every resource id is
 * a prefix plus 13 [A-Za-z0-9], ARNs have an empty account field (`::catalog`).
 */
import { randomInt } from "node:crypto";

const ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `prefix` followed by 13 random [A-Za-z0-9], the shape of every id in this API. */
export function newId(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 13; i++) s += ALPHANUM[randomInt(ALPHANUM.length)];
  return s;
}

/** A random 12-digit AWS account id without a leading zero. */
export function newAccountId(): string {
  let s = String(randomInt(1, 10));
  for (let i = 0; i < 11; i++) s += String(randomInt(10));
  return s;
}

export const invitationArn = (catalog: string, id: string): string =>
  `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection-invitation/${id}`;
export const connectionArn = (catalog: string, id: string): string =>
  `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection/${id}`;
