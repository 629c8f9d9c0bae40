/**
 * How many CPUs this process may use: the host's cores, or fewer under a container's CPU quota. Node 20's
 * `availableParallelism()` counts the cores the process may be scheduled on, not the quota, so a pod limited to
 * one CPU on a 16-core node would otherwise start 16 threads that throttle each other.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { posix } from "node:path";

/** The CPUs to size the pool by, and where that number came from (for the start-up log). */
export interface CpuBudget {
  readonly cpus: number;
  /** `available cores`, or the quota file and its value, e.g. `cgroup v2 cpu.max (1.5 CPUs)`. */
  readonly source: string;
}

/** Reads a file as text, or undefined if it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/**
 * The CPUs this process may use: the smaller of the cores available to it and its cgroup's CPU quota (v2
 * `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded down, at least 1. Rounded down because the
 * supervisor's own thread needs CPU too: 1.5 CPUs make one pool thread, not two that take turns.
 */
export function cpuBudget(read: ReadText = readText, cores: number = availableParallelism()): CpuBudget {
  const quota = cgroupCpuQuota(read);
  if (quota !== undefined && Math.floor(quota.cpus) < cores) {
    return { cpus: Math.max(1, Math.floor(quota.cpus)), source: `${quota.kind} (${quota.cpus} CPUs)` };
  }
  return { cpus: Math.max(1, cores), source: "available cores" };
}

interface CpuQuota {
  readonly cpus: number;
  readonly kind: "cgroup v2 cpu.max" | "cgroup v1 cpu.cfs_quota_us";
}

/**
 * The tightest CPU quota on this process's cgroup or any of its ancestors (a limit set on a parent applies
 * below it), or undefined when none is set or none can be read.
 */
export function cgroupCpuQuota(read: ReadText): CpuQuota | undefined {
  const membership = read("/proc/self/cgroup") ?? "";
  let tightest: CpuQuota | undefined;
  const consider = (quota: CpuQuota | undefined): void => {
    if (quota && (!tightest || quota.cpus < tightest.cpus)) tightest = quota;
  };
  for (const line of membership.split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers === "") {
      for (const dir of ancestors("/sys/fs/cgroup", path)) consider(parseCpuMax(read(`${dir}/cpu.max`)));
    } else if (controllers?.split(",").includes("cpu")) {
      for (const mount of ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]) {
        for (const dir of ancestors(mount, path)) {
          consider(parseCfsQuota(read(`${dir}/cpu.cfs_quota_us`), read(`${dir}/cpu.cfs_period_us`)));
        }
      }
    }
  }
  return tightest;
}

/** `root/path` and each of its parents up to `root`. Inside a container's cgroup namespace `path` is `/`. */
function ancestors(root: string, path: string): string[] {
  const dirs: string[] = [];
  let current = posix.normalize(`/${path}`);
  for (;;) {
    dirs.push(current === "/" ? root : `${root}${current}`);
    if (current === "/") return dirs;
    current = posix.dirname(current);
  }
}

/** cgroup v2 `cpu.max`: `max 100000` (no limit) or `150000 100000` (1.5 CPUs). */
export function parseCpuMax(text: string | undefined): CpuQuota | undefined {
  const [quota, period] = (text ?? "").trim().split(/\s+/);
  return quotaOf(Number(quota), Number(period ?? 100_000), "cgroup v2 cpu.max");
}

/** cgroup v1: a quota of -1 means no limit. */
export function parseCfsQuota(quota: string | undefined, period: string | undefined): CpuQuota | undefined {
  return quotaOf(Number(quota?.trim()), Number(period?.trim()), "cgroup v1 cpu.cfs_quota_us");
}

function quotaOf(quota: number, period: number, kind: CpuQuota["kind"]): CpuQuota | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return { cpus: Math.round((quota / period) * 100) / 100, kind };
}
