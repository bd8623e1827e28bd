/**
 * Partition layouts, as data. planPartitions() places the partitions on a disk of a given size
 * (pure); renderSfdiskScript() turns the plan into sfdisk's input, written onto the plain disk file.
 *
 *   mbr: DOS label; 1: root ext4, bootable, from 1 MiB to the end. GRUB's core.img lives in the
 *        post-MBR gap (sectors 1–2047), boot.img in the MBR.
 *   efi: GPT; 1: BIOS boot (1 MiB, holds core.img so the same disk also boots on BIOS),
 *        2: EFI system partition (FAT32), 3: root ext4 to the end, 1 MiB kept free for the backup GPT.
 *        Without BIOS (arm64: `biosBoot: false`): 1: EFI system partition, 2: root.
 */
export const LAYOUTS = ['mbr', 'efi'] as const;
export type Layout = (typeof LAYOUTS)[number];
export type PartitionRole = 'root' | 'esp' | 'bios-boot';

export const SECTOR = 512;
const MiB_SECTORS = 2048;
export const ESP_BYTES = 128 * 1024 * 1024;

export interface Partition {
  readonly role: PartitionRole;
  /** 1-based partition number. */
  readonly number: number;
  readonly startSector: number;
  readonly sizeSectors: number;
  /** GPT partition UUID (PARTUUID); sfdisk draws one at random when absent. */
  readonly uuid?: string;
}

export interface PartitionPlan {
  readonly layout: Layout;
  readonly diskBytes: number;
  /** DOS disk signature (8 hex digits) or GPT disk GUID. */
  readonly labelId: string;
  readonly partitions: readonly Partition[];
}

/** Bytes a layout needs besides the root filesystem. */
export function layoutOverheadBytes(layout: Layout): number {
  switch (layout) {
    case 'mbr':
      return MiB_SECTORS * SECTOR;
    case 'efi':
      return (3 * MiB_SECTORS) * SECTOR + ESP_BYTES;
  }
}

export function isLayout(s: string): s is Layout {
  return (LAYOUTS as readonly string[]).includes(s);
}

/**
 * `partUuid(n)`: the GPT PARTUUID of partition n (derived, for reproducible disks); absent: sfdisk's random ones.
 * `biosBoot`: whether an efi layout also has the BIOS boot partition (x86; arm64 has no BIOS).
 */
export function planPartitions(layout: Layout, diskBytes: number, labelId: string, partUuid?: (n: number) => string, biosBoot = true): PartitionPlan {
  const plan = placePartitions(layout, diskBytes, labelId, biosBoot);
  if (!partUuid || layout !== 'efi') return plan;
  return { ...plan, partitions: plan.partitions.map((p) => ({ ...p, uuid: partUuid(p.number) })) };
}

function placePartitions(layout: Layout, diskBytes: number, labelId: string, biosBoot: boolean): PartitionPlan {
  if (diskBytes % (MiB_SECTORS * SECTOR) !== 0) throw new Error(`disk size ${diskBytes} is not a whole number of MiB`);
  const total = diskBytes / SECTOR;
  const free = total - layoutOverheadBytes(layout) / SECTOR;
  if (free < MiB_SECTORS) throw new Error(`disk of ${diskBytes} bytes leaves no room for the root partition`);
  switch (layout) {
    case 'mbr':
      return { layout, diskBytes, labelId, partitions: [{ role: 'root', number: 1, startSector: MiB_SECTORS, sizeSectors: total - MiB_SECTORS }] };
    case 'efi': {
      const espSectors = ESP_BYTES / SECTOR;
      if (!biosBoot) {
        const rootAt = MiB_SECTORS + espSectors;
        const esp: Partition = { role: 'esp', number: 1, startSector: MiB_SECTORS, sizeSectors: espSectors };
        return { layout, diskBytes, labelId, partitions: [esp, { role: 'root', number: 2, startSector: rootAt, sizeSectors: total - MiB_SECTORS - rootAt }] };
      }
      const rootStart = 2 * MiB_SECTORS + espSectors;
      return {
        layout,
        diskBytes,
        labelId,
        partitions: [
          { role: 'bios-boot', number: 1, startSector: MiB_SECTORS, sizeSectors: MiB_SECTORS },
          { role: 'esp', number: 2, startSector: 2 * MiB_SECTORS, sizeSectors: espSectors },
          { role: 'root', number: 3, startSector: rootStart, sizeSectors: total - MiB_SECTORS - rootStart },
        ],
      };
    }
  }
}

/** GPT partition type GUIDs and DOS type bytes, by role. */
function partitionType(layout: Layout, role: PartitionRole): string {
  if (layout === 'mbr') return role === 'esp' ? 'ef' : '83';
  switch (role) {
    case 'bios-boot':
      return '21686148-6449-6E6F-744E-656564454649';
    case 'esp':
      return 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
    case 'root':
      return '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
  }
}

function partitionName(role: PartitionRole): string {
  switch (role) {
    case 'bios-boot':
      return 'BIOS boot';
    case 'esp':
      return 'EFI system';
    case 'root':
      return 'root';
  }
}

/** sfdisk's script format; sfdisk validates it and writes the (protective) MBR and both GPT copies. */
export function renderSfdiskScript(plan: PartitionPlan): string {
  const lines = [`label: ${plan.layout === 'mbr' ? 'dos' : 'gpt'}`, `label-id: ${plan.layout === 'mbr' ? `0x${plan.labelId}` : plan.labelId}`, 'unit: sectors'];
  lines.push('');
  for (const p of plan.partitions) {
    const fields = [`start=${p.startSector}`, `size=${p.sizeSectors}`, `type=${partitionType(plan.layout, p.role)}`];
    if (plan.layout === 'efi') fields.push(`name="${partitionName(p.role)}"`);
    if (plan.layout === 'efi' && p.uuid !== undefined) fields.push(`uuid=${p.uuid}`);
    if (plan.layout === 'mbr' && p.role === 'root') fields.push('bootable');
    lines.push(fields.join(', '));
  }
  return `${lines.join('\n')}\n`;
}

export function partitionOf(plan: PartitionPlan, role: PartitionRole): Partition | undefined {
  return plan.partitions.find((p) => p.role === role);
}
