import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cgroupCpuQuota, cpuBudget, type ReadText } from "../../src/process/cpu-budget.js";

/** A filesystem of these files only. */
const files =
  (contents: Record<string, string>): ReadText =>
  (path) =>
    contents[path];

describe("cpuBudget", () => {
  it("takes a cgroup v2 quota below the cores, rounded down, and says so", () => {
    const read = files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "150000 100000\n" });
    assert.deepEqual(cpuBudget(read, 16), { cpus: 1, source: "cgroup v2 cpu.max (1.5 CPUs)" });
    const two = files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "200000 100000\n" });
    assert.deepEqual(cpuBudget(two, 16), { cpus: 2, source: "cgroup v2 cpu.max (2 CPUs)" });
  });

  it("never goes below one thread", () => {
    const read = files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "25000 100000" });
    assert.equal(cpuBudget(read, 8).cpus, 1);
  });

  it("uses the cores when there is no quota, the quota is above them, or nothing can be read", () => {
    const unlimited = files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "max 100000\n" });
    assert.deepEqual(cpuBudget(unlimited, 4), { cpus: 4, source: "available cores" });
    const generous = files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "800000 100000\n" });
    assert.deepEqual(cpuBudget(generous, 4), { cpus: 4, source: "available cores" });
    assert.deepEqual(cpuBudget(files({}), 4), { cpus: 4, source: "available cores" });
  });

  it("finds a quota set on a parent cgroup (v2) and takes the tightest", () => {
    const read = files({
      "/proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
      "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max": "max 100000",
      "/sys/fs/cgroup/kubepods/pod1/cpu.max": "300000 100000",
      "/sys/fs/cgroup/kubepods/cpu.max": "500000 100000",
    });
    assert.deepEqual(cgroupCpuQuota(read), { cpus: 3, kind: "cgroup v2 cpu.max" });
  });

  it("reads cgroup v1's cfs quota and period, where -1 means no limit", () => {
    const limited = files({
      "/proc/self/cgroup": "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
      "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n",
      "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    });
    assert.deepEqual(cpuBudget(limited, 8), { cpus: 2, source: "cgroup v1 cpu.cfs_quota_us (2 CPUs)" });
    const unlimited = files({
      "/proc/self/cgroup": "4:cpu,cpuacct:/\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    });
    assert.equal(cgroupCpuQuota(unlimited), undefined);
  });
});
