/**
 * The orders in which Kafka Streams' `TopologyDescription` lists nodes depend on two Java
 * collections: the `HashSet`/`HashMap` of a sub-topology's node names (iterated in hash-bucket
 * order) and the `TreeSet` of each node's predecessors and successors, whose comparator reads
 * sub-tree sizes that grow while the nodes are being connected. This file reproduces both, so
 * that `describe()` is Kafka's text byte for byte.
 */

/** Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` in 32-bit arithmetic, over UTF-16 code units. */
function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The order a `java.util.HashSet<String>` (or `HashMap`) iterates `names`, added in this order:
 * by bucket (`(h ^ (h >>> 16)) & (capacity - 1)` at the final capacity: 16, doubled while more
 * than three quarters full), then in insertion order within a bucket, which resizing keeps.
 */
export function javaHashOrder(names: readonly string[]): string[] {
  let capacity = 16;
  while (names.length > capacity * 0.75) capacity *= 2;
  const bucket = (name: string): number => {
    const h = javaStringHash(name);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return names.map((name, index) => ({ name, index, bucket: bucket(name) })).sort((a, b) => a.bucket - b.bucket || a.index - b.index).map((entry) => entry.name);
}

interface TreeEntry<T> {
  item: T;
  left: TreeEntry<T> | null;
  right: TreeEntry<T> | null;
  parent: TreeEntry<T> | null;
  black: boolean;
}

/**
 * A `java.util.TreeSet` as `java.util.TreeMap` builds it (a red-black tree): each `add` walks down
 * from the root comparing with the comparator as it is at that moment, so when the compared
 * values change later, the order of the items already in the set does not.
 */
export class JavaTreeSet<T> {
  private root: TreeEntry<T> | null = null;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  add(item: T): void {
    if (this.root === null) {
      this.root = { item, left: null, right: null, parent: null, black: true };
      return;
    }
    let parent: TreeEntry<T> = this.root;
    let cmp: number;
    for (let t: TreeEntry<T> | null = this.root; t !== null; ) {
      parent = t;
      cmp = this.compare(item, t.item);
      if (cmp === 0) return;
      t = cmp < 0 ? t.left : t.right;
    }
    const entry: TreeEntry<T> = { item, left: null, right: null, parent, black: false };
    if (cmp! < 0) parent.left = entry;
    else parent.right = entry;
    this.fixAfterInsertion(entry);
  }

  /** The items in order (an in-order walk). */
  items(): T[] {
    const out: T[] = [];
    const walk = (entry: TreeEntry<T> | null): void => {
      if (entry === null) return;
      walk(entry.left);
      out.push(entry.item);
      walk(entry.right);
    };
    walk(this.root);
    return out;
  }

  private fixAfterInsertion(inserted: TreeEntry<T>): void {
    const isBlack = (e: TreeEntry<T> | null): boolean => e === null || e.black;
    let x: TreeEntry<T> | null = inserted;
    x.black = false;
    while (x !== null && x !== this.root && !isBlack(x.parent)) {
      const parent: TreeEntry<T> = x.parent!;
      const grand: TreeEntry<T> | null = parent.parent;
      if (grand !== null && parent === grand.left) {
        const uncle = grand.right;
        if (!isBlack(uncle)) {
          parent.black = true;
          uncle!.black = true;
          grand.black = false;
          x = grand;
        } else {
          if (x === parent.right) {
            x = parent;
            this.rotateLeft(x);
          }
          x.parent!.black = true;
          if (x.parent!.parent) {
            x.parent!.parent.black = false;
            this.rotateRight(x.parent!.parent);
          }
        }
      } else {
        const uncle = grand === null ? null : grand.left;
        if (!isBlack(uncle)) {
          parent.black = true;
          uncle!.black = true;
          grand!.black = false;
          x = grand;
        } else {
          if (x === parent.left) {
            x = parent;
            this.rotateRight(x);
          }
          x.parent!.black = true;
          if (x.parent!.parent) {
            x.parent!.parent.black = false;
            this.rotateLeft(x.parent!.parent);
          }
        }
      }
    }
    this.root!.black = true;
  }

  private rotateLeft(p: TreeEntry<T>): void {
    const r = p.right!;
    p.right = r.left;
    if (r.left) r.left.parent = p;
    r.parent = p.parent;
    if (p.parent === null) this.root = r;
    else if (p.parent.left === p) p.parent.left = r;
    else p.parent.right = r;
    r.left = p;
    p.parent = r;
  }

  private rotateRight(p: TreeEntry<T>): void {
    const l = p.left!;
    p.left = l.right;
    if (l.right) l.right.parent = p;
    l.parent = p.parent;
    if (p.parent === null) this.root = l;
    else if (p.parent.right === p) p.parent.right = l;
    else p.parent.left = l;
    l.right = p;
    p.parent = l;
  }
}
