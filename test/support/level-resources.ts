/**
 * The LevelDB resources (iterators, snapshots) dynalite's database holds open, for tests and the
 * soak benches: abstract-level found the way dynalite loads it (through `level` → `classic-level`
 * on disk, `memory-level` in memory), its attach/detach of resources counted.
 */
import { createRequire } from 'node:module';

type Proto = Record<string, unknown> & { attachResource(r: object): void; detachResource(r: object): void };
interface AbstractLevelModule {
  AbstractLevel: { prototype: Proto };
  AbstractIterator: { prototype: Proto };
  AbstractKeyIterator: { prototype: Proto };
  AbstractValueIterator: { prototype: Proto };
}

function abstractLevels(): AbstractLevelModule[] {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  return [['level', 'classic-level'], ['memory-level']].map((chain) => {
    let req = fromDynalite;
    for (const name of chain) req = createRequire(req.resolve(name));
    return req('abstract-level') as AbstractLevelModule;
  });
}

/** Starts counting: `open()` the resources held now, `opened()` all attached since; `restore()` stops. */
export function countLevelResources(): { open(): number; opened(): number; restore(): void } {
  const open = new Set<object>();
  let opened = 0;
  const restores: (() => void)[] = [];
  for (const proto of new Set(abstractLevels().map((l) => l.AbstractLevel.prototype))) {
    const { attachResource, detachResource } = proto;
    proto.attachResource = function (r) {
      open.add(r);
      opened++;
      attachResource.call(this, r);
    };
    proto.detachResource = function (r) {
      open.delete(r);
      detachResource.call(this, r);
    };
    restores.push(() => {
      Object.assign(proto, { attachResource, detachResource });
    });
  }
  return {
    open: () => open.size,
    opened: () => opened,
    restore: () => {
      for (const r of restores) r();
    },
  };
}

/**
 * Takes away the `return` closeDynaliteIterators gives the iterators (shared/runtimes/local/dynalite.ts):
 * dynalite 4.0.0 as it ships, every Query, Scan and ListTables leaving its iterator open. For the
 * soak benches' "before" (BENCH_SOAK_UNPATCHED=1) only; the next startDynalite patches again.
 */
export function unpatchDynaliteIterators(): void {
  for (const l of abstractLevels()) for (const c of [l.AbstractIterator, l.AbstractKeyIterator, l.AbstractValueIterator]) delete c.prototype.return;
}
