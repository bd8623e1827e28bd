/**
 * The dynamic-linking facts of an ELF file, read from its headers (never guessed, never by running
 * ldd, which would execute the target's loader): the interpreter, DT_NEEDED, DT_RPATH and DT_RUNPATH.
 */

export interface ElfDeps {
  readonly class: 32 | 64;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; undefined for static executables. */
  readonly interpreter: string | undefined;
  readonly needed: readonly string[];
  readonly rpath: readonly string[];
  readonly runpath: readonly string[];
}

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_LOAD = 1;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** Parses an ELF image; throws an Error with `what` in it for anything that is not a well-formed ELF. */
export function readElfDeps(buf: Buffer, what: string): ElfDeps {
  if (!isElf(buf)) throw new Error(`${what} is not an ELF file`);
  const cls = buf[4] === 2 ? 64 : buf[4] === 1 ? 32 : undefined;
  if (cls === undefined) throw new Error(`${what}: unknown ELF class ${buf[4]}`);
  const le = buf[5] === 1;
  if (!le && buf[5] !== 2) throw new Error(`${what}: unknown ELF byte order ${buf[5]}`);
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const word = cls === 64 ? u64 : u32;
  const check = (o: number, n: number) => {
    if (o < 0 || o + n > buf.length) throw new Error(`${what}: truncated ELF (offset ${o})`);
  };
  check(0, cls === 64 ? 64 : 52);
  const phoff = cls === 64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(cls === 64 ? 0x36 : 0x2a);
  const phnum = u16(cls === 64 ? 0x38 : 0x2c);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    check(ph, phentsize);
    const type = u32(ph);
    const offset = cls === 64 ? u64(ph + 8) : u32(ph + 4);
    const vaddr = cls === 64 ? u64(ph + 16) : u32(ph + 8);
    const filesz = cls === 64 ? u64(ph + 32) : u32(ph + 16);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_INTERP) {
      check(offset, filesz);
      interpreter = cString(buf, offset);
    }
    if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
  }
  const needed: number[] = [];
  const rpath: number[] = [];
  const runpath: number[] = [];
  let strtabAddr: number | undefined;
  if (dynamic) {
    const entry = cls === 64 ? 16 : 8;
    for (let o = dynamic.offset; o + entry <= dynamic.offset + dynamic.size; o += entry) {
      check(o, entry);
      const tag = word(o);
      const val = word(o + entry / 2);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) needed.push(val);
      else if (tag === DT_RPATH) rpath.push(val);
      else if (tag === DT_RUNPATH) runpath.push(val);
      else if (tag === DT_STRTAB) strtabAddr = val;
    }
  }
  const str = (index: number): string => {
    if (strtabAddr === undefined) throw new Error(`${what}: dynamic section without a string table`);
    const seg = loads.find((l) => strtabAddr! >= l.vaddr && strtabAddr! < l.vaddr + l.filesz);
    if (!seg) throw new Error(`${what}: string table outside the loaded segments`);
    const off = seg.offset + (strtabAddr - seg.vaddr) + index;
    check(off, 1);
    return cString(buf, off);
  };
  const split = (list: number[]) => list.flatMap((i) => str(i).split(':')).filter((p) => p !== '');
  return { class: cls, interpreter, needed: needed.map(str), rpath: split(rpath), runpath: split(runpath) };
}

function cString(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 ? buf.length : end);
}
