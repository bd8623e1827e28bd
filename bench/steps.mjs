#!/usr/bin/env node
// Where a build's time goes, per case: reads kiln build logs (the "[  12.3s] ✓ STEP (4.5 s)" lines) and prints
// one row per step and one column per case, each cell the median over that case's logs, steps in the order a
// build runs them. Hooks appear as their own rows when any case spends a second or more in them.
//   bench/steps.mjs CASE=LOG[,LOG…] …   e.g. bench/steps.mjs cold=a.log,b.log warm=c.log
// Prints a markdown table; with --json, the same as {"steps":[…],"cases":{CASE:{STEP:seconds}}}.
import fs from 'node:fs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const cases = args.filter((a) => a !== '--json').map((a) => {
  const at = a.indexOf('=');
  if (at <= 0) {
    process.stderr.write(`usage: bench/steps.mjs [--json] CASE=LOG[,LOG…] …\n`);
    process.exit(2);
  }
  return { name: a.slice(0, at), logs: a.slice(at + 1).split(',').filter(Boolean) };
});

// A finished step: "[  52.8s] ✓ base tree [debian-minimal] bookworm/amd64 (52.7 s)"; a hook has two more spaces.
const STEP = /^\[\s*[\d.]+s\] (\s*)✓ (.*) \(([\d.]+) s\)$/;

/** name → seconds for one log; a cache key or image digest in a step's name is dropped so runs line up. */
function stepsOf(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = STEP.exec(line);
    if (!m) continue;
    const hook = m[1].length > 0;
    // A phase may run as several groups of hooks around its package steps: "install.d (2 hooks, chroot)" → "install.d (chroot)".
    const name = `${hook ? '  ' : ''}${m[2].replace(/ \([0-9a-f]{8,}\)$/, '').replace(/ \(\d+ hooks?, /, ' (')}`;
    out.set(name, (out.get(name) ?? 0) + Number(m[3]));
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.floor((s.length - 1) / 2)];
};

const order = [];
const table = {};
for (const c of cases) {
  const runs = c.logs.map(stepsOf);
  const names = new Set(runs.flatMap((r) => [...r.keys()]));
  table[c.name] = {};
  for (const n of names) {
    if (!order.includes(n)) {
      // Keep a build's order: a new step goes after the last known step that precedes it in this case's first log.
      const seq = [...(runs.find((r) => r.has(n)) ?? new Map()).keys()];
      const before = seq.slice(0, seq.indexOf(n)).reverse().find((p) => order.includes(p));
      order.splice(before === undefined ? 0 : order.indexOf(before) + 1, 0, n);
    }
    // Over the runs that took the step (a step some runs skip is not counted as 0 s in the others).
    table[c.name][n] = median(runs.filter((r) => r.has(n)).map((r) => r.get(n)));
  }
}
const shown = order.filter((n) => !n.startsWith('  ') || cases.some((c) => (table[c.name][n] ?? 0) >= 1));

if (json) {
  process.stdout.write(`${JSON.stringify({ steps: shown, cases: table })}\n`);
} else {
  const cell = (v) => (v === undefined ? '—' : v.toFixed(1));
  process.stdout.write(`| step | ${cases.map((c) => `${c.name} (s)`).join(' | ')} |\n|---|${cases.map(() => '---:').join('|')}|\n`);
  for (const n of shown) process.stdout.write(`| ${n.startsWith('  ') ? `↳ ${n.trim()}` : n} | ${cases.map((c) => cell(table[c.name][n])).join(' | ')} |\n`);
}
