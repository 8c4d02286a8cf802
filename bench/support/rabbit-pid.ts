import fs from 'node:fs';

/**
 * The beam.smp process of a private node started by startRabbitMQ(), which
 * does not expose it. Its command line does not carry the node name, so match
 * RABBITMQ_NODENAME in its environment (readable by its owner or root), with
 * the command line as a fallback.
 */
export function findRabbitBeamPid(nodeName: string): number {
  const short = nodeName.split('@')[0] as string;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('beam')) continue;
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`RABBITMQ_NODENAME=${nodeName}`)) return Number(entry);
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((a) => a === short || a === nodeName)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no beam.smp process found for node ${nodeName}`);
}
