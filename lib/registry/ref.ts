/**
 * Registry references: `HOST[:PORT]/REPO[:TAG|@DIGEST]` (a `docker://` prefix allowed), the repository part of
 * `--cache-registry HOST[:PORT]/REPO`, and whether a host may be spoken to over plain HTTP.
 */
import { invalid } from '../errors/index.js';

export interface RepoRef {
  /** host[:port], as written (lower-cased). */
  readonly host: string;
  readonly repo: string;
}

export interface ImageRef extends RepoRef {
  /** A tag, or a digest (sha256:…). */
  readonly reference: string;
}

const REPO_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

/** `HOST[:PORT]/REPO`: where (flag) names the setting in the error. */
export function parseRepoRef(raw: string, where: string): RepoRef {
  const text = raw.trim().replace(/^docker:\/\//, '');
  const slash = text.indexOf('/');
  const host = slash < 0 ? '' : text.slice(0, slash);
  const repo = slash < 0 ? '' : text.slice(slash + 1);
  if (!HOST.test(host) || (!host.includes('.') && !host.includes(':') && host !== 'localhost')) {
    throw invalid(`${where}: "${raw}" does not start with a registry host (HOST[:PORT]/REPO, e.g. registry.example:5000/kiln/cache)`);
  }
  if (repo === '' || !repo.split('/').every((p) => REPO_PART.test(p))) {
    throw invalid(`${where}: "${raw}": "${repo}" is not a repository name (lower-case path components: a-z 0-9 . _ -)`);
  }
  return { host: host.toLowerCase(), repo };
}

/** `HOST[:PORT]/REPO:TAG` or `HOST[:PORT]/REPO@sha256:…`. */
export function parseImageRef(raw: string, where: string): ImageRef {
  const text = raw.trim().replace(/^docker:\/\//, '');
  const at = text.indexOf('@');
  let head = text;
  let reference = '';
  if (at >= 0) {
    head = text.slice(0, at);
    reference = text.slice(at + 1);
    if (!DIGEST.test(reference)) throw invalid(`${where}: "${raw}": "${reference}" is not a sha256 digest`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon > text.lastIndexOf('/')) {
      head = text.slice(0, colon);
      reference = text.slice(colon + 1);
      if (!TAG.test(reference)) throw invalid(`${where}: "${raw}": "${reference}" is not a tag`);
    }
  }
  if (reference === '') throw invalid(`${where}: "${raw}" has no tag (HOST[:PORT]/REPO:TAG)`);
  return { ...parseRepoRef(head, where), reference };
}

/** The host name without its port (and without IPv6 brackets). */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  return host.replace(/:[0-9]+$/, '');
}

/** localhost, 127.0.0.0/8 and ::1: the only hosts spoken to over plain HTTP without --insecure-registry. */
export function isLoopback(host: string): boolean {
  const name = hostName(host).toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(name);
}

export function refText(r: RepoRef, reference?: string): string {
  if (!reference) return `${r.host}/${r.repo}`;
  return `${r.host}/${r.repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
}
