/** Bytes for people: `4.6 GiB`, `563 MiB`, `12 KiB`, `80 B`. */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ];
  const [unit, size] = units.find(([, size]) => bytes >= size) ?? ["B", 1];
  return `${Number((bytes / size).toFixed(1))} ${unit}`;
}
