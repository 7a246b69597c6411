/* ladder: an order-statistic treap; see ladder.h for the order.
 *
 * Nodes live in one array and name each other by uint32 index, which keeps a node at 40 bytes (a
 * 24-byte key, two links, a subtree size, a priority) and a million entries in a few large
 * allocations rather than a million small ones. Index 0 is the empty tree: its size is 0 and it is
 * never written, so the size of a missing child needs no test. Removed nodes are chained through
 * their left link into a free list, which is used up before the array grows.
 *
 * The tree is a search tree by key and a heap by priority: no node's priority is above its
 * parent's. Priorities are random, so the tree has the shape of a random insertion order whatever
 * the order the keys come in (sorted, as when a board is loaded from its index): expected depth
 * O(log n). They come from a xorshift generator with a fixed seed, so a run can be replayed.
 *
 * Every walk is a loop. An add looks the key up (counting the entries ahead of it), goes down to
 * where the new node's priority puts it, and splits the subtree found there around the key; a
 * remove looks the key up, goes down to it and merges its two subtrees in its place. Sizes are set
 * on the way down, since the outcome is known before the walk: the lookup has said whether the key
 * is there, and the count tells the split how many of its keys go ahead.
 */
#include "ladder.h"

#include <math.h>
#include <stdlib.h>

#define NIL 0
#define NODE_SIZE 40
#define FIRST_CAP 64              /* nodes of a new ladder, NIL included */
/* Most nodes: as many as a uint32 names, fewer where size_t could not count their bytes. */
#define MAX_CAP (SIZE_MAX / NODE_SIZE < UINT32_MAX ? (uint32_t)(SIZE_MAX / NODE_SIZE) : UINT32_MAX)
#define SEED 0x9e3779b9u          /* xorshift32 must not start at 0 */

struct node {
    struct ladder_key key;
    uint32_t left, right;   /* children, NIL for none; on the free list, left is the next free node */
    uint32_t size;          /* nodes in this subtree, this one included */
    uint32_t prio;          /* never above the parent's */
};

_Static_assert(sizeof(struct node) == NODE_SIZE, "a node is 40 bytes");

struct ladder {
    struct node *nodes;     /* cap of them; nodes[NIL] is the empty tree */
    uint32_t cap;           /* nodes allocated */
    uint32_t used;          /* nodes handed out so far, NIL included: nodes[used..cap) never were */
    uint32_t free;          /* first removed node, NIL when none */
    uint32_t root;
    uint32_t rng;           /* xorshift32 state */
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
    struct ladder *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    l->nodes = calloc(FIRST_CAP, sizeof(*l->nodes));
    if (l->nodes == NULL) {
        free(l);
        return NULL;
    }
    l->cap = FIRST_CAP;
    l->used = 1;
    l->free = NIL;
    l->root = NIL;
    l->rng = SEED;
    return l;
}

void ladder_free(struct ladder *l)
{
    if (l == NULL) {
        return;
    }
    free(l->nodes);
    free(l);
}

/* xorshift32 (Marsaglia): plenty for balancing, and the same sequence on every run. */
static uint32_t next_prio(struct ladder *l)
{
    uint32_t x = l->rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    l->rng = x;
    return x;
}

/* Double the array, up to MAX_CAP. Returns 0 or -1. */
static int grow(struct ladder *l)
{
    if (l->cap == MAX_CAP) {
        return -1;
    }
    uint32_t cap = l->cap > MAX_CAP / 2 ? MAX_CAP : l->cap * 2;
    struct node *nodes = realloc(l->nodes, (size_t)cap * sizeof(*nodes));
    if (nodes == NULL) {
        return -1;
    }
    l->nodes = nodes;
    l->cap = cap;
    return 0;
}

/* A node for a new entry, a removed one first; NIL when out of memory. It may move the array, so
 * take it before holding any pointer into it. */
static uint32_t take_node(struct ladder *l)
{
    uint32_t n = l->free;

    if (n != NIL) {
        l->free = l->nodes[n].left;
        return n;
    }
    if (l->used == l->cap && grow(l) < 0) {
        return NIL;
    }
    return l->used++;
}

/* Look k up: its node, or NIL when it is not there; either way *ahead gets how many entries rank
 * ahead of it. */
static uint32_t walk(const struct ladder *l, const struct ladder_key *k, uint32_t *ahead)
{
    const struct node *nodes = l->nodes;
    uint32_t t = l->root;
    uint32_t n = 0;

    while (t != NIL) {
        int c = ladder_cmp(k, &nodes[t].key);
        if (c == 0) {
            *ahead = n + nodes[nodes[t].left].size;
            return t;
        }
        if (c < 0) {
            t = nodes[t].left;
        } else {
            n += nodes[nodes[t].left].size + 1;
            t = nodes[t].right;
        }
    }
    *ahead = n;
    return NIL;
}

/* Split the subtree t around k, which it does not hold: the keys ahead of k to *lo, the others to
 * *hi. less says how many of t's keys are ahead of k, so that each node moved knows its new size on
 * the way down: one that goes to *lo keeps exactly the keys ahead of k below it, one that goes to
 * *hi loses them all. */
static void split(struct node *nodes, uint32_t t, const struct ladder_key *k, uint32_t less,
                  uint32_t *lo, uint32_t *hi)
{
    while (t != NIL) {
        struct node *x = &nodes[t];
        if (ladder_cmp(&x->key, k) < 0) {
            x->size = less;
            less -= nodes[x->left].size + 1;
            *lo = t;
            lo = &x->right;
            t = x->right;
        } else {
            x->size -= less;
            *hi = t;
            hi = &x->left;
            t = x->left;
        }
    }
    *lo = NIL;
    *hi = NIL;
}

/* Join a and b, every key of a ahead of every key of b, into *link. The node kept on top takes the
 * whole of the other tree below it, so its size grows by that tree's. */
static void merge(struct node *nodes, uint32_t a, uint32_t b, uint32_t *link)
{
    while (a != NIL && b != NIL) {
        if (nodes[a].prio >= nodes[b].prio) {
            nodes[a].size += nodes[b].size;
            *link = a;
            link = &nodes[a].right;
            a = nodes[a].right;
        } else {
            nodes[b].size += nodes[a].size;
            *link = b;
            link = &nodes[b].left;
            b = nodes[b].left;
        }
    }
    *link = a != NIL ? a : b;
}

int ladder_add(struct ladder *l, const struct ladder_key *k)
{
    uint32_t ahead;

    if (!isfinite(k->rating) || walk(l, k, &ahead) != NIL) {
        return -1;
    }
    uint32_t n = take_node(l);
    if (n == NIL) {
        return -1;
    }
    struct node *nodes = l->nodes;
    uint32_t prio = next_prio(l);
    uint32_t *link = &l->root;

    /* Down to the first node the new one outranks in priority. Every node passed counts the new one
     * in its size; ahead drops what the path leaves on its left, to count only the keys ahead of k
     * in the subtree the new node takes over. */
    while (*link != NIL && nodes[*link].prio >= prio) {
        struct node *x = &nodes[*link];
        x->size++;
        if (ladder_cmp(k, &x->key) < 0) {
            link = &x->left;
        } else {
            ahead -= nodes[x->left].size + 1;
            link = &x->right;
        }
    }
    nodes[n].key = *k;
    nodes[n].prio = prio;
    nodes[n].size = nodes[*link].size + 1;
    split(nodes, *link, k, ahead, &nodes[n].left, &nodes[n].right);
    *link = n;
    return 0;
}

int ladder_remove(struct ladder *l, const struct ladder_key *k)
{
    uint32_t ahead;

    if (!isfinite(k->rating)) {
        return -1;
    }
    uint32_t n = walk(l, k, &ahead);
    if (n == NIL) {
        return -1;
    }
    struct node *nodes = l->nodes;
    uint32_t *link = &l->root;

    while (*link != n) {
        struct node *x = &nodes[*link];
        x->size--;
        link = ladder_cmp(k, &x->key) < 0 ? &x->left : &x->right;
    }
    merge(nodes, nodes[n].left, nodes[n].right, link);
    nodes[n].left = l->free;
    l->free = n;
    return 0;
}

int64_t ladder_rank(const struct ladder *l, const struct ladder_key *k)
{
    uint32_t ahead;

    /* A NaN rating would compare equal to any rating, and find an entry it is not. */
    if (!isfinite(k->rating) || walk(l, k, &ahead) == NIL) {
        return 0;
    }
    return (int64_t)ahead + 1;
}

int ladder_at(const struct ladder *l, int64_t rank, struct ladder_key *out)
{
    const struct node *nodes = l->nodes;

    if (rank < 1 || rank > (int64_t)nodes[l->root].size) {
        return 0;
    }
    uint32_t want = (uint32_t)rank;
    uint32_t t = l->root;

    while (t != NIL) {
        uint32_t left = nodes[nodes[t].left].size;
        if (want <= left) {
            t = nodes[t].left;
        } else if (want == left + 1) {
            *out = nodes[t].key;
            return 1;
        } else {
            want -= left + 1;
            t = nodes[t].right;
        }
    }
    return 0;
}

int64_t ladder_before(const struct ladder *l, const struct ladder_key *k)
{
    uint32_t ahead;

    walk(l, k, &ahead);
    return ahead;
}

size_t ladder_count(const struct ladder *l)
{
    return l->nodes[l->root].size;
}
