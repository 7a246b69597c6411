/* ladder: a counted B+tree; see ladder.h for the order.
 *
 * Why this structure: every rated round moves two players, a remove and an add, each a walk from
 * the root to one entry. In a binary tree of a million entries that walk visits some forty nodes at
 * random places in memory, a cache miss each, and the walk cost 5 us a round at a million against
 * 0.4 us at a hundred. Here a node is a block of 18 cache lines holding dozens of keys: a walk is
 * five nodes, the inner ones (a couple of MiB at a million) stay in the CPU's caches, and only the
 * leaf at the bottom is likely to miss.
 *
 * The entries are in leaves of up to LEAF_MAX keys, in order. An inner node has up to FANOUT
 * children, with the count of entries below each, and between two children a separator: a key
 * that no key on its left reaches and no key on its right is ahead of. A separator need not be an
 * entry (the one it was may have gone). All leaves are at the same depth, l->height inner levels
 * below the root, so a node's kind is known from its depth. A rank sums the counts left of the
 * path; a position goes down by the counts.
 *
 * Every node but the root is at least half full, so the height stays O(log n) and a node holds on
 * average at least a half of what it could, whatever the churn. An add that overfills a node splits
 * it in two; a remove that leaves one under half full takes an entry from a neighbour that can
 * spare one, else merges with it. Node arrays have one slot of slack, so an add puts its key into
 * the node first and splits after. Updates walk down recording the path, then fix it bottom up.
 *
 * Nodes are malloc'd blocks aligned to cache lines, one a node, never one an entry; a few freed
 * ones are kept for reuse. An add takes every node it may need before it changes anything, so
 * running out of memory leaves the ladder as it was. Pure code: no I/O, nothing beyond libc.
 */
#include "ladder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LINE 64
#define NODE_BYTES (18 * LINE)
#define LEAF_MAX 46                  /* keys of a leaf */
#define LEAF_MIN (LEAF_MAX / 2)      /* but for the root */
#define FANOUT 31                    /* children of an inner node */
#define FANOUT_MIN ((FANOUT + 1) / 2) /* but for the root; a split of FANOUT + 1 makes two */
/* A child's count is a uint32. Nodes at least half full hold 2^32 entries in 7 inner levels. */
#define MAX_COUNT UINT32_MAX
#define MAX_DEPTH 12
/* Freed nodes kept for the next split: a player's move may merge one node and split another, and
 * handing the block back and forth through malloc would be work for nothing. */
#define SPARE_MAX 64

struct leaf {
    uint32_t n;                             /* keys */
    struct ladder_key keys[LEAF_MAX + 1];   /* in order; the last slot only within an add */
};

struct inner {
    uint32_t n;                             /* children, at least 2 */
    uint32_t count[FANOUT + 1];             /* entries below each child */
    void *child[FANOUT + 1];                /* inner nodes, or leaves on the last inner level */
    struct ladder_key sep[FANOUT];          /* sep[i] between child[i] and child[i + 1] */
};

_Static_assert(sizeof(struct leaf) <= NODE_BYTES && sizeof(struct inner) <= NODE_BYTES,
               "a node fits its block");
_Static_assert(LEAF_MIN * 2 - 1 <= LEAF_MAX && FANOUT_MIN * 2 - 1 <= FANOUT,
               "a node under half full merges with one just half full");

struct ladder {
    void *root;         /* a leaf when height is 0; NULL when the ladder is empty */
    int height;         /* inner levels above the leaves */
    size_t count;       /* entries */
    size_t nodes;       /* blocks held, spares included */
    void **spare;       /* freed blocks, each holding the next; NULL when none */
    size_t spares;
};

/* One inner node of a walk down, and which child the walk took. */
struct step {
    struct inner *node;
    uint32_t slot;
};

int ladder_cmp(const struct ladder_key *a, const struct ladder_key *b)
{
    if (a->rating > b->rating) {
        return -1;
    }
    if (a->rating < b->rating) {
        return 1;
    }
    if (a->rated_at != b->rated_at) {
        return a->rated_at < b->rated_at ? -1 : 1;
    }
    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    return 0;
}

struct ladder *ladder_new(void)
{
    return calloc(1, sizeof(struct ladder));
}

/* Free the subtree t, whose root is depth inner levels above its leaves. */
static void free_tree(void *t, int depth)
{
    if (depth > 0) {
        struct inner *x = t;
        for (uint32_t i = 0; i < x->n; i++) {
            free_tree(x->child[i], depth - 1);
        }
    }
    free(t);
}

void ladder_free(struct ladder *l)
{
    if (l == NULL) {
        return;
    }
    if (l->root != NULL) {
        free_tree(l->root, l->height);
    }
    while (l->spare != NULL) {
        void **t = l->spare;
        l->spare = *t;
        free(t);
    }
    free(l);
}

static void *node_new(struct ladder *l)
{
    void **t = l->spare;

    if (t != NULL) {
        l->spare = *t;
        l->spares--;
        return t;
    }
    if ((t = aligned_alloc(LINE, NODE_BYTES)) != NULL) {
        l->nodes++;
    }
    return t;
}

static void node_free(struct ladder *l, void *t)
{
    if (l->spares < SPARE_MAX) {
        *(void **)t = l->spare;
        l->spare = t;
        l->spares++;
        return;
    }
    free(t);
    l->nodes--;
}

/* Ask for every line of node t at once. A search in a node that is not in the caches would miss
 * on one line after another, each waiting for the last; asked for together, the misses overlap. */
static void prefetch(const void *t)
{
    for (size_t i = 0; i < NODE_BYTES; i += LINE) {
        __builtin_prefetch((const char *)t + i);
    }
}

/* How many of the n keys rank ahead of k. */
static uint32_t keys_before(const struct ladder_key *keys, uint32_t n, const struct ladder_key *k)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (ladder_cmp(&keys[mid], k) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The child of x whose range holds k: the number of separators not behind k. */
static uint32_t child_of(const struct inner *x, const struct ladder_key *k)
{
    uint32_t lo = 0, hi = x->n - 1;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (ladder_cmp(&x->sep[mid], k) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static size_t sum_counts(const struct inner *x, uint32_t from, uint32_t to)
{
    size_t n = 0;

    for (uint32_t i = from; i < to; i++) {
        n += x->count[i];
    }
    return n;
}

/* Look k up in a ladder that is not empty: the leaf whose range holds it into *leaf, the inner
 * nodes above it into path, how many entries rank ahead of k into *ahead. Returns k's position in
 * the leaf, or where it would go; *found says whether it is there. */
static uint32_t find(const struct ladder *l, const struct ladder_key *k, struct step *path,
                     struct leaf **leaf, size_t *ahead, int *found)
{
    void *t = l->root;
    size_t n = 0;

    for (int d = 0; d < l->height; d++) {
        struct inner *x = t;
        uint32_t s = child_of(x, k);
        t = x->child[s];
        prefetch(t);
        n += sum_counts(x, 0, s);
        path[d].node = x;
        path[d].slot = s;
    }
    struct leaf *f = t;
    uint32_t p = keys_before(f->keys, f->n, k);
    *leaf = f;
    *ahead = n + p;
    *found = p < f->n && ladder_cmp(&f->keys[p], k) == 0;
    return p;
}

/* Make room at child at and separator sat of x: each array moves up by one from there. */
static void inner_open(struct inner *x, uint32_t at, uint32_t sat)
{
    memmove(&x->child[at + 1], &x->child[at], (x->n - at) * sizeof(x->child[0]));
    memmove(&x->count[at + 1], &x->count[at], (x->n - at) * sizeof(x->count[0]));
    memmove(&x->sep[sat + 1], &x->sep[sat], (x->n - 1 - sat) * sizeof(x->sep[0]));
    x->n++;
}

/* Take out child at and separator sat of x: each array moves down by one onto them. */
static void inner_close(struct inner *x, uint32_t at, uint32_t sat)
{
    x->n--;
    memmove(&x->child[at], &x->child[at + 1], (x->n - at) * sizeof(x->child[0]));
    memmove(&x->count[at], &x->count[at + 1], (x->n - at) * sizeof(x->count[0]));
    memmove(&x->sep[sat], &x->sep[sat + 1], (x->n - 1 - sat) * sizeof(x->sep[0]));
}

static void leaf_open(struct leaf *f, uint32_t at)
{
    memmove(&f->keys[at + 1], &f->keys[at], (f->n - at) * sizeof(f->keys[0]));
    f->n++;
}

static void leaf_close(struct leaf *f, uint32_t at)
{
    f->n--;
    memmove(&f->keys[at], &f->keys[at + 1], (f->n - at) * sizeof(f->keys[0]));
}

/* Nodes an add to leaf f below path must take: one for every full node from f up, one more for a
 * new root when they go all the way up. -1 when the tree may grow no taller. */
static int nodes_needed(const struct ladder *l, const struct step *path, const struct leaf *f)
{
    int d = l->height - 1;

    if (f->n < LEAF_MAX) {
        return 0;
    }
    while (d >= 0 && path[d].node->n == FANOUT) {
        d--;
    }
    if (d >= 0) {
        return l->height - d;
    }
    return l->height + 1 < MAX_DEPTH ? l->height + 2 : -1;
}

/* Reserve n nodes into spare. Returns 0, or -1 with none taken. */
static int take_spares(struct ladder *l, void **spare, int n)
{
    for (int i = 0; i < n; i++) {
        if ((spare[i] = node_new(l)) == NULL) {
            while (i-- > 0) {
                node_free(l, spare[i]);
            }
            return -1;
        }
    }
    return 0;
}

/* A split in progress: the new right half of a node, its count, the old left half's count, and the
 * separator between them, for the parent to take in. */
struct split {
    void *right;
    uint32_t left_count, right_count;
    struct ladder_key sep;
};

/* Split the overfull leaf f into itself and r. */
static void split_leaf(struct leaf *f, struct leaf *r, struct split *up)
{
    uint32_t keep = f->n / 2;

    r->n = f->n - keep;
    memcpy(r->keys, &f->keys[keep], r->n * sizeof(r->keys[0]));
    f->n = keep;
    up->right = r;
    up->left_count = f->n;
    up->right_count = r->n;
    up->sep = r->keys[0];
}

/* Split the overfull inner node x into itself and r; the middle separator goes up. */
static void split_inner(struct inner *x, struct inner *r, struct split *up)
{
    uint32_t keep = x->n / 2;

    r->n = x->n - keep;
    memcpy(r->child, &x->child[keep], r->n * sizeof(r->child[0]));
    memcpy(r->count, &x->count[keep], r->n * sizeof(r->count[0]));
    memcpy(r->sep, &x->sep[keep], (r->n - 1) * sizeof(r->sep[0]));
    up->sep = x->sep[keep - 1];
    x->n = keep;
    up->right = r;
    up->left_count = (uint32_t)sum_counts(x, 0, x->n);
    up->right_count = (uint32_t)sum_counts(r, 0, r->n);
}

/* A new root over the old one and the right half split from it. */
static void grow_root(struct ladder *l, struct inner *root, const struct split *up)
{
    root->n = 2;
    root->child[0] = l->root;
    root->count[0] = up->left_count;
    root->child[1] = up->right;
    root->count[1] = up->right_count;
    root->sep[0] = up->sep;
    l->root = root;
    l->height++;
}

int ladder_add(struct ladder *l, const struct ladder_key *k)
{
    struct step path[MAX_DEPTH];
    void *spare[MAX_DEPTH + 1];
    struct split up = { NULL, 0, 0, { 0, 0, 0 } };
    struct leaf *f;
    size_t ahead;
    int found, used = 0;

    if (!isfinite(k->rating) || l->count == MAX_COUNT) {
        return -1;
    }
    if (l->root == NULL) {
        if ((l->root = node_new(l)) == NULL) {
            return -1;
        }
        ((struct leaf *)l->root)->n = 0;
    }
    uint32_t p = find(l, k, path, &f, &ahead, &found);
    int need = found ? -1 : nodes_needed(l, path, f);
    if (need < 0 || take_spares(l, spare, need) != 0) {
        return -1;
    }
    leaf_open(f, p);
    f->keys[p] = *k;
    if (f->n > LEAF_MAX) {
        split_leaf(f, spare[used++], &up);
    }
    for (int d = l->height - 1; d >= 0; d--) {
        struct inner *x = path[d].node;
        uint32_t s = path[d].slot;
        if (up.right == NULL) {
            x->count[s]++;
            continue;
        }
        x->count[s] = up.left_count;
        inner_open(x, s + 1, s);
        x->child[s + 1] = up.right;
        x->count[s + 1] = up.right_count;
        x->sep[s] = up.sep;
        up.right = NULL;
        if (x->n > FANOUT) {
            split_inner(x, spare[used++], &up);
        }
    }
    if (up.right != NULL) {
        grow_root(l, spare[used], &up);
    }
    l->count++;
    return 0;
}

/* Leaf s of x is under half full: take a key from a neighbour that can spare one, else merge
 * with a neighbour. */
static void fix_leaf(struct ladder *l, struct inner *x, uint32_t s)
{
    struct leaf *f = x->child[s];

    if (s > 0 && ((struct leaf *)x->child[s - 1])->n > LEAF_MIN) {
        struct leaf *a = x->child[s - 1];
        leaf_open(f, 0);
        f->keys[0] = a->keys[a->n - 1];
        a->n--;
        x->sep[s - 1] = f->keys[0];
        x->count[s - 1]--;
        x->count[s]++;
        return;
    }
    if (s + 1 < x->n && ((struct leaf *)x->child[s + 1])->n > LEAF_MIN) {
        struct leaf *b = x->child[s + 1];
        f->keys[f->n++] = b->keys[0];
        leaf_close(b, 0);
        x->sep[s] = b->keys[0];
        x->count[s]++;
        x->count[s + 1]--;
        return;
    }
    uint32_t m = s > 0 ? s - 1 : s;   /* child m + 1 goes into child m */
    struct leaf *a = x->child[m], *b = x->child[m + 1];
    memcpy(&a->keys[a->n], b->keys, b->n * sizeof(b->keys[0]));
    a->n += b->n;
    x->count[m] += x->count[m + 1];
    inner_close(x, m + 1, m);
    node_free(l, b);
}

/* Inner node s of x is under half full: take a child from a neighbour that can spare one, else
 * merge with a neighbour. A child that moves passes through the separator between the two. */
static void fix_inner(struct ladder *l, struct inner *x, uint32_t s)
{
    struct inner *c = x->child[s];

    if (s > 0 && ((struct inner *)x->child[s - 1])->n > FANOUT_MIN) {
        struct inner *a = x->child[s - 1];
        uint32_t moved = a->count[a->n - 1];
        inner_open(c, 0, 0);
        c->child[0] = a->child[a->n - 1];
        c->count[0] = moved;
        c->sep[0] = x->sep[s - 1];
        x->sep[s - 1] = a->sep[a->n - 2];
        a->n--;
        x->count[s - 1] -= moved;
        x->count[s] += moved;
        return;
    }
    if (s + 1 < x->n && ((struct inner *)x->child[s + 1])->n > FANOUT_MIN) {
        struct inner *b = x->child[s + 1];
        uint32_t moved = b->count[0];
        c->child[c->n] = b->child[0];
        c->count[c->n] = moved;
        c->sep[c->n - 1] = x->sep[s];
        c->n++;
        x->sep[s] = b->sep[0];
        inner_close(b, 0, 0);
        x->count[s] += moved;
        x->count[s + 1] -= moved;
        return;
    }
    uint32_t m = s > 0 ? s - 1 : s;   /* child m + 1 goes into child m */
    struct inner *a = x->child[m], *b = x->child[m + 1];
    a->sep[a->n - 1] = x->sep[m];
    memcpy(&a->sep[a->n], b->sep, (b->n - 1) * sizeof(b->sep[0]));
    memcpy(&a->child[a->n], b->child, b->n * sizeof(b->child[0]));
    memcpy(&a->count[a->n], b->count, b->n * sizeof(b->count[0]));
    a->n += b->n;
    x->count[m] += x->count[m + 1];
    inner_close(x, m + 1, m);
    node_free(l, b);
}

/* After a remove from leaf f below path: refill every node left under half full, from the leaf up,
 * then drop a root left with one child (or, a leaf, with no key). */
static void rebalance(struct ladder *l, const struct step *path, const struct leaf *f)
{
    int small = f->n < LEAF_MIN;

    for (int d = l->height - 1; d >= 0 && small; d--) {
        struct inner *x = path[d].node;
        if (d == l->height - 1) {
            fix_leaf(l, x, path[d].slot);
        } else {
            fix_inner(l, x, path[d].slot);
        }
        small = x->n < FANOUT_MIN;
    }
    while (l->height > 0 && ((struct inner *)l->root)->n == 1) {
        struct inner *root = l->root;
        l->root = root->child[0];
        l->height--;
        node_free(l, root);
    }
    if (l->height == 0 && ((struct leaf *)l->root)->n == 0) {
        node_free(l, l->root);
        l->root = NULL;
    }
}

int ladder_remove(struct ladder *l, const struct ladder_key *k)
{
    struct step path[MAX_DEPTH];
    struct leaf *f;
    size_t ahead;
    int found;

    if (!isfinite(k->rating) || l->root == NULL) {
        return -1;
    }
    uint32_t p = find(l, k, path, &f, &ahead, &found);
    if (!found) {
        return -1;
    }
    leaf_close(f, p);
    for (int d = 0; d < l->height; d++) {
        path[d].node->count[path[d].slot]--;
    }
    l->count--;
    rebalance(l, path, f);
    return 0;
}

int64_t ladder_rank(const struct ladder *l, const struct ladder_key *k)
{
    struct step path[MAX_DEPTH];
    struct leaf *f;
    size_t ahead;
    int found;

    /* A NaN rating would compare equal to any rating, and find an entry it is not. */
    if (!isfinite(k->rating) || l->root == NULL) {
        return 0;
    }
    find(l, k, path, &f, &ahead, &found);
    return found ? (int64_t)ahead + 1 : 0;
}

int ladder_at(const struct ladder *l, int64_t rank, struct ladder_key *out)
{
    if (rank < 1 || rank > (int64_t)l->count) {
        return 0;
    }
    size_t want = (size_t)rank - 1;
    void *t = l->root;

    for (int d = 0; d < l->height; d++) {
        const struct inner *x = t;
        uint32_t i = 0;
        while (want >= x->count[i]) {
            want -= x->count[i];
            i++;
        }
        t = x->child[i];
    }
    *out = ((const struct leaf *)t)->keys[want];
    return 1;
}

int64_t ladder_before(const struct ladder *l, const struct ladder_key *k)
{
    struct step path[MAX_DEPTH];
    struct leaf *f;
    size_t ahead;
    int found;

    if (l->root == NULL) {
        return 0;
    }
    find(l, k, path, &f, &ahead, &found);
    return (int64_t)ahead;
}

size_t ladder_count(const struct ladder *l)
{
    return l->count;
}

size_t ladder_memory(const struct ladder *l)
{
    return sizeof(*l) + l->nodes * NODE_BYTES;
}

int ladder_height(const struct ladder *l)
{
    return l->root == NULL ? 0 : l->height + 1;
}
