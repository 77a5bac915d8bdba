// A Map trimmed from its oldest insertion once full: the simulator's caches
// (encodings, images, prefix hashes) only need "recent things stay".
export class BoundedCache<K, V> {
  private map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get size(): number {
    return this.map.size;
  }
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  set(k: K, v: V): V {
    if (this.map.size >= this.max && !this.map.has(k)) {
      const first = this.map.keys().next();
      if (!first.done) this.map.delete(first.value);
    }
    this.map.set(k, v);
    return v;
  }
}
