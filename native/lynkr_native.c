/*
 * lynkr_cli.index._native: parse a file and run its tags query with the tree-sitter C
 * runtime (vendored in native/tree_sitter_core, the version py-tree-sitter wraps), and
 * return the rows lynkr's extractor builds, as plain tuples, instead of one Python Node
 * object per capture.
 *
 * It does exactly what lynkr_cli/index/extract.py's pure-Python path does with
 * py-tree-sitter's QueryCursor.matches() (a test compares the two on a real corpus):
 * the same matches (match limit UINT32_MAX, the #eq?/#any-of? predicates as
 * py-tree-sitter evaluates them, other directives ignored as matches() ignores them),
 * the captures of a match grouped by name in order of first appearance, only the
 * first node of each name read.
 *
 * The work is in two phases: parse + query + reading the nodes runs with the GIL
 * released into a C array of records (the Extractor is marked busy meanwhile, so a
 * second thread gets an error rather than sharing its parser); building the Python
 * tuples then runs with the GIL held.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_sitter/api.h"

/* ---- the allocator: an arena per run ----
 *
 * One run (one file) creates its parser and query cursor, parses, queries and reads
 * the nodes with every tree-sitter allocation taken from a bump arena; at the end the
 * parser is deleted (for the grammar's external scanner, which has its own malloc)
 * and the arena is reset, instead of freeing the tree node by node (ts_tree_delete
 * walks every subtree). Freeing inside the arena is a no-op, except that the last
 * block can shrink or grow in place (tree-sitter's arrays grow by realloc).
 *
 * Each block has a 16-byte header: its size and where it lives. Allocations outside a
 * run (compiling the query, which lives as long as its Extractor) go to malloc. The
 * arena in use is thread-local and belongs to one Extractor, which one thread at a
 * time may run (see `busy`), so the GIL can be released around a run. Out of memory
 * aborts, as tree-sitter's own default allocator does: it cannot recover from NULL.
 */

#define ARENA_CHUNK (1u << 20)
#define TAG_HEAP 0x6865617000000000ull
#define TAG_ARENA 0x6172656e00000000ull

typedef struct {
    size_t size;
    size_t tag;
} Header;

typedef struct Chunk {
    struct Chunk *next;
    size_t size, used;
    size_t pad; /* keeps data 16-byte aligned */
    unsigned char data[];
} Chunk;

typedef struct {
    Chunk *chunks;   /* the current chunk first */
    Header *last;    /* the latest block, which may grow or shrink in place */
    size_t held;     /* bytes of all chunks */
    size_t peak;     /* the largest `held` seen */
} Arena;

static _Thread_local Arena *current_arena;

static void out_of_memory(void) {
    fprintf(stderr, "lynkr_cli.index._native: out of memory\n");
    abort();
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static void *arena_take(Arena *arena, size_t size) {
    if (size > SIZE_MAX / 4) {
        out_of_memory();
    }
    size_t need = sizeof(Header) + round16(size ? size : 1);
    Chunk *chunk = arena->chunks;
    if (chunk == NULL || chunk->size - chunk->used < need) {
        size_t data_size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        chunk = malloc(sizeof(Chunk) + data_size);
        if (chunk == NULL) {
            out_of_memory();
        }
        chunk->size = data_size;
        chunk->used = 0;
        chunk->next = arena->chunks;
        arena->chunks = chunk;
        arena->held += data_size;
        if (arena->held > arena->peak) {
            arena->peak = arena->held;
        }
    }
    Header *header = (Header *)(chunk->data + chunk->used);
    chunk->used += need;
    header->size = need - sizeof(Header);
    header->tag = TAG_ARENA;
    arena->last = header;
    return header + 1;
}

/* Free every chunk but the first one made (the next file reuses it). */
static void arena_reset(Arena *arena) {
    Chunk *chunk = arena->chunks;
    while (chunk != NULL && chunk->next != NULL) {
        Chunk *next = chunk->next;
        arena->held -= chunk->size;
        free(chunk);
        chunk = next;
    }
    arena->chunks = chunk;
    if (chunk != NULL) {
        chunk->used = 0;
    }
    arena->last = NULL;
}

static void arena_free_all(Arena *arena) {
    arena_reset(arena);
    free(arena->chunks);
    arena->chunks = NULL;
    arena->held = 0;
}

static void *heap_take(size_t size) {
    Header *header = malloc(sizeof(Header) + (size ? size : 1));
    if (header == NULL) {
        out_of_memory();
    }
    header->size = size;
    header->tag = TAG_HEAP;
    return header + 1;
}

static void *ts_alloc_malloc(size_t size) {
    return current_arena ? arena_take(current_arena, size) : heap_take(size);
}

static void *ts_alloc_calloc(size_t count, size_t size) {
    if (size && count > (SIZE_MAX - 64) / size) {
        out_of_memory();
    }
    void *block = ts_alloc_malloc(count * size);
    memset(block, 0, count * size);
    return block;
}

static void ts_alloc_free(void *block) {
    if (block == NULL) {
        return;
    }
    Header *header = (Header *)block - 1;
    if (header->tag == TAG_HEAP) {
        header->tag = 0;
        free(header);
    } else if (current_arena && header == current_arena->last) {
        current_arena->chunks->used -= sizeof(Header) + header->size; /* give it back */
        current_arena->last = NULL;
    }
}

static void *ts_alloc_realloc(void *block, size_t size) {
    if (block == NULL) {
        return ts_alloc_malloc(size);
    }
    Header *header = (Header *)block - 1;
    if (header->tag == TAG_HEAP) {
        Header *grown = realloc(header, sizeof(Header) + (size ? size : 1));
        if (grown == NULL) {
            out_of_memory();
        }
        grown->size = size;
        return grown + 1;
    }
    Arena *arena = current_arena;
    if (arena == NULL) { /* an arena block outlived its run: a bug, never reached */
        out_of_memory();
    }
    if (size <= header->size) {
        return block;
    }
    Chunk *chunk = arena->chunks;
    size_t grow = round16(size) - header->size;
    if (header == arena->last && chunk->size - chunk->used >= grow) {
        chunk->used += grow; /* the latest block grows in place */
        header->size += grow;
        return block;
    }
    void *moved = arena_take(arena, size);
    memcpy(moved, block, header->size);
    return moved;
}

#define ROLE_SKIP 0
#define ROLE_DEF 1
#define ROLE_REF 2
#define ROLE_IMPORT 3
#define NAME_MAX_BYTES 200 /* extract.py: a longer name is skipped */
#define RECEIVER_MAX 80    /* extract.py: RECEIVER_MAX */

#define RECV_EMPTY 0
#define RECV_SPAN 1
#define RECV_LONG 2
#define IMP_NAME 1
#define IMP_ALIAS 2
#define IMP_STAR 4

#define NO_CAPTURE UINT32_MAX

/* ---- predicates (the subset of py-tree-sitter's query_predicates.c we support) ---- */

enum { P_EQ_CAPTURE, P_EQ_STRING, P_ANY_OF, P_MATCH };

typedef struct {
    int type;
    bool is_positive, is_any;
    uint32_t capture1, capture2;
    uint32_t first_value, value_count; /* P_EQ_STRING / P_ANY_OF: into the value arrays */
    PyObject *regex;                   /* P_MATCH: re.compile(the pattern) */
} Predicate;

typedef struct {
    uint8_t role;
    uint32_t capture;    /* its capture id: the kind */
    uint32_t start, end; /* the name (definition, reference) or the import node */
    uint32_t row, col;   /* start point of the name, or of the import node */
    uint32_t a_start, a_end; /* ref: receiver; def: outer node; import: @import.name */
    uint32_t b_start, b_end; /* def: b_start = outer end row; import: @import.alias */
    uint32_t pending;        /* 0, or 1 + the index of its match's regex check */
    uint8_t flags;
} Rec;

/* A match whose pattern has #match? predicates: they are Python regular expressions,
   so they are evaluated once the GIL is held again (build_rows), and the match's
   records dropped if one fails. Its captures are kept for that. */
typedef struct {
    uint32_t pattern, first_capture, capture_count;
} Pending;

typedef struct {
    uint32_t id, start, end;
} Captured;

typedef struct {
    Pending *pending;
    size_t pending_count, pending_capacity;
    Captured *captured;
    size_t captured_count, captured_capacity;
} Deferred;

typedef struct {
    Rec *items;
    size_t count, capacity;
} Recs;

typedef struct {
    PyObject_HEAD
    PyObject *language_obj; /* the capsule, kept alive with the grammar it points into */
    const TSLanguage *language;
    TSQuery *query;
    Arena arena; /* a run's parser, tree and query cursor */
    uint32_t capture_count;
    uint8_t *roles;       /* per capture id */
    uint8_t *aider;       /* per capture id: the capture is the name itself */
    PyObject **kinds;     /* per capture id: the kind string (new refs) */
    uint32_t id_name, id_receiver, id_import_name, id_import_alias, id_import_star;
    bool own_receivers;
    uint8_t *member;      /* per symbol: 1 member node, 2 navigation_suffix */
    uint32_t symbol_count;
    Predicate *predicates;
    uint32_t *pattern_first; /* pattern i's predicates: [pattern_first[i], pattern_first[i+1]) */
    uint8_t *pattern_regex;  /* pattern i has a #match? predicate */
    uint32_t predicate_count;
    const char **values;
    uint32_t *value_lengths;
    bool busy;
    bool ready; /* __init__ completed */
} Extractor;

static PyObject *ELLIPSIS_TEXT; /* "…" */
static PyObject *EMPTY_TEXT;    /* "" */
static PyObject *STAR_BINDING;  /* "*=*" */

/* ---- records ---- */

/* Room for `need` items of `size` bytes in a growing array (no GIL needed). */
static bool reserve(void **items, size_t *capacity, size_t need, size_t size) {
    if (need <= *capacity) {
        return true;
    }
    size_t grown = *capacity ? *capacity : 64;
    while (grown < need) {
        grown *= 2;
    }
    void *moved = PyMem_RawRealloc(*items, grown * size);
    if (moved == NULL) {
        return false;
    }
    *items = moved;
    *capacity = grown;
    return true;
}

static bool recs_push(Recs *recs, const Rec *rec) {
    if (!reserve((void **)&recs->items, &recs->capacity, recs->count + 1, sizeof(Rec))) {
        return false;
    }
    recs->items[recs->count++] = *rec;
    return true;
}

/* ---- predicates ---- */

static bool text_equal(const char *data, TSNode a, const char *b, uint32_t b_length) {
    uint32_t start = ts_node_start_byte(a), end = ts_node_end_byte(a);
    return end - start == b_length && memcmp(data + start, b, b_length) == 0;
}

/* As py-tree-sitter's PREDICATE_BREAK: stop at the first decisive comparison. */
static bool predicate_break(const Predicate *p, int result) {
    return (result != 1 && !p->is_any) || (result == 1 && p->is_any);
}

static bool satisfies(const Extractor *self, const TSQueryMatch *match, const char *data) {
    uint32_t first = self->pattern_first[match->pattern_index];
    uint32_t last = self->pattern_first[match->pattern_index + 1];
    for (uint32_t k = first; k < last; ++k) {
        const Predicate *p = &self->predicates[k];
        if (p->type == P_MATCH) {
            continue; /* a regular expression: build_rows, with the GIL */
        }
        if (p->type == P_ANY_OF) {
            for (uint16_t i = 0; i < match->capture_count; ++i) {
                if (match->captures[i].index != p->capture1) {
                    continue;
                }
                bool found = false;
                for (uint32_t v = 0; v < p->value_count && !found; ++v) {
                    uint32_t at = p->first_value + v;
                    bool equal = text_equal(data, match->captures[i].node, self->values[at],
                                            self->value_lengths[at]);
                    found = p->is_positive ? equal : !equal;
                }
                if (!found) {
                    return false;
                }
            }
        } else if (p->type == P_EQ_STRING) {
            int result = 1;
            for (uint16_t i = 0; i < match->capture_count; ++i) {
                if (match->captures[i].index != p->capture1) {
                    continue;
                }
                bool equal = text_equal(data, match->captures[i].node,
                                        self->values[p->first_value],
                                        self->value_lengths[p->first_value]);
                result = (p->is_positive ? equal : !equal) ? 1 : 0;
                if (predicate_break(p, result)) {
                    break;
                }
            }
            if (result != 1) {
                return false;
            }
        } else { /* P_EQ_CAPTURE: the i-th node of one against the i-th of the other */
            int result = 1;
            uint16_t i = 0, j = 0;
            for (;;) {
                while (i < match->capture_count && match->captures[i].index != p->capture1) {
                    ++i;
                }
                while (j < match->capture_count && match->captures[j].index != p->capture2) {
                    ++j;
                }
                if (i >= match->capture_count || j >= match->capture_count) {
                    break;
                }
                TSNode a = match->captures[i].node, b = match->captures[j].node;
                uint32_t b_start = ts_node_start_byte(b);
                bool equal =
                    text_equal(data, a, data + b_start, ts_node_end_byte(b) - b_start);
                result = (p->is_positive ? equal : !equal) ? 1 : 0;
                if (predicate_break(p, result)) {
                    break;
                }
                ++i;
                ++j;
            }
            if (result != 1) {
                return false;
            }
        }
    }
    return true;
}

#define NAME_IS(x) (length == sizeof(x) - 1 && memcmp(name, x, length) == 0)

/* Read each pattern's predicates. Returns 0, or -1 with an exception set. */
static int load_predicates(Extractor *self, PyObject *re_compile) {
    uint32_t patterns = ts_query_pattern_count(self->query);
    uint32_t total = 0, total_values = 0;
    for (uint32_t i = 0; i < patterns; ++i) {
        uint32_t steps;
        const TSQueryPredicateStep *step = ts_query_predicates_for_pattern(self->query, i, &steps);
        for (uint32_t j = 0; j < steps; ++j) {
            if (step[j].type == TSQueryPredicateStepTypeDone) {
                ++total;
            } else if (step[j].type == TSQueryPredicateStepTypeString) {
                ++total_values;
            }
        }
    }
    self->pattern_first = PyMem_Calloc(patterns + 1, sizeof(uint32_t));
    self->pattern_regex = PyMem_Calloc(patterns + 1, 1);
    self->predicates = PyMem_Calloc(total + 1, sizeof(Predicate));
    self->values = PyMem_Calloc(total_values + 1, sizeof(char *));
    self->value_lengths = PyMem_Calloc(total_values + 1, sizeof(uint32_t));
    if (!self->pattern_first || !self->pattern_regex || !self->predicates || !self->values ||
        !self->value_lengths) {
        PyErr_NoMemory();
        return -1;
    }
    self->predicate_count = total; /* zeroed: dealloc releases the regexes made so far */
    uint32_t count = 0, value_count = 0;
    for (uint32_t i = 0; i < patterns; ++i) {
        self->pattern_first[i] = count;
        uint32_t steps;
        const TSQueryPredicateStep *step = ts_query_predicates_for_pattern(self->query, i, &steps);
        uint32_t j = 0;
        while (j < steps) {
            uint32_t n = 0; /* steps of this predicate, its name included */
            while (j + n < steps && step[j + n].type != TSQueryPredicateStepTypeDone) {
                ++n;
            }
            const TSQueryPredicateStep *s = step + j;
            j += n + 1;
            if (n == 0 || s[0].type != TSQueryPredicateStepTypeString) {
                PyErr_Format(PyExc_ValueError, "pattern %u: a predicate without a name", i);
                return -1;
            }
            uint32_t length;
            const char *name = ts_query_string_value_for_id(self->query, s[0].value_id, &length);
            Predicate *p = &self->predicates[count];
            if (NAME_IS("eq?") || NAME_IS("not-eq?") || NAME_IS("any-eq?") ||
                NAME_IS("any-not-eq?")) {
                if (n != 3 || s[1].type != TSQueryPredicateStepTypeCapture) {
                    PyErr_Format(PyExc_ValueError, "pattern %u: malformed #%s", i, name);
                    return -1;
                }
                p->is_any = memcmp(name, "any-", 4) == 0;
                p->is_positive = NAME_IS("eq?") || NAME_IS("any-eq?");
                p->capture1 = s[1].value_id;
                if (s[2].type == TSQueryPredicateStepTypeCapture) {
                    p->type = P_EQ_CAPTURE;
                    p->capture2 = s[2].value_id;
                } else {
                    p->type = P_EQ_STRING;
                    p->first_value = value_count;
                    p->value_count = 1;
                    self->values[value_count] = ts_query_string_value_for_id(
                        self->query, s[2].value_id, &self->value_lengths[value_count]);
                    ++value_count;
                }
                ++count;
            } else if (NAME_IS("any-of?") || NAME_IS("not-any-of?")) {
                if (n < 3 || s[1].type != TSQueryPredicateStepTypeCapture) {
                    PyErr_Format(PyExc_ValueError, "pattern %u: malformed #%s", i, name);
                    return -1;
                }
                p->type = P_ANY_OF;
                p->is_positive = NAME_IS("any-of?");
                p->capture1 = s[1].value_id;
                p->first_value = value_count;
                p->value_count = n - 2;
                for (uint32_t k = 2; k < n; ++k) {
                    if (s[k].type != TSQueryPredicateStepTypeString) {
                        PyErr_Format(PyExc_ValueError, "pattern %u: malformed #%s", i, name);
                        return -1;
                    }
                    self->values[value_count] = ts_query_string_value_for_id(
                        self->query, s[k].value_id, &self->value_lengths[value_count]);
                    ++value_count;
                }
                ++count;
            } else if (NAME_IS("match?") || NAME_IS("not-match?") || NAME_IS("any-match?") ||
                       NAME_IS("any-not-match?")) {
                if (n != 3 || s[1].type != TSQueryPredicateStepTypeCapture ||
                    s[2].type != TSQueryPredicateStepTypeString) {
                    PyErr_Format(PyExc_ValueError, "pattern %u: malformed #%s", i, name);
                    return -1;
                }
                p->type = P_MATCH;
                p->is_any = memcmp(name, "any-", 4) == 0;
                p->is_positive = NAME_IS("match?") || NAME_IS("any-match?");
                p->capture1 = s[1].value_id;
                uint32_t pattern_length;
                const char *pattern =
                    ts_query_string_value_for_id(self->query, s[2].value_id, &pattern_length);
                p->regex = PyObject_CallFunction(re_compile, "s#", pattern,
                                                 (Py_ssize_t)pattern_length);
                if (p->regex == NULL) {
                    return -1;
                }
                self->pattern_regex[i] = 1;
                ++count;
            }
            /* anything else (#set!, #is?, #strip!, #select-adjacent!, …) filters nothing in
               py-tree-sitter's matches() without a predicate callable: ignored here too */
        }
    }
    self->pattern_first[patterns] = count;
    return 0;
}

/* ---- collecting (no GIL) ---- */

static uint32_t find_capture(const TSQueryMatch *match, uint32_t id, TSNode *node) {
    if (id == NO_CAPTURE) {
        return 0;
    }
    for (uint16_t i = 0; i < match->capture_count; ++i) {
        if (match->captures[i].index == id) {
            *node = match->captures[i].node;
            return 1;
        }
    }
    return 0;
}

static void set_span(TSNode node, uint32_t *start, uint32_t *end) {
    *start = ts_node_start_byte(node);
    *end = ts_node_end_byte(node);
}

/* The receiver of a reference found by walking up from its name (extract.py's
   _walked_receiver and _receiver). false: the member node has no named child, where
   py-tree-sitter's named_child(0) raises IndexError. */
static bool walked_receiver(const Extractor *self, TSNode name, uint32_t name_start, Rec *rec) {
    rec->flags = RECV_EMPTY;
    TSNode parent = ts_node_parent(name);
    if (ts_node_is_null(parent)) {
        return true;
    }
    TSSymbol symbol = ts_node_symbol(parent);
    if (symbol < self->symbol_count && self->member[symbol] == 2) {
        parent = ts_node_parent(parent);
        if (ts_node_is_null(parent)) {
            return true;
        }
        symbol = ts_node_symbol(parent);
    }
    if (symbol >= self->symbol_count || self->member[symbol] != 1) {
        return true;
    }
    if (ts_node_named_child_count(parent) == 0) {
        return false;
    }
    TSNode first = ts_node_named_child(parent, 0);
    if (ts_node_is_null(first) || ts_node_start_byte(first) == name_start) {
        return true;
    }
    set_span(first, &rec->a_start, &rec->a_end);
    rec->flags = rec->a_end - rec->a_start > RECEIVER_MAX ? RECV_LONG : RECV_SPAN;
    return true;
}

/* Strict UTF-8 without NUL, as Python's decoder takes it: the only texts a #match?
   predicate sees the same here as in py-tree-sitter (which passes them as C strings). */
static bool plain_utf8(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0) {
            return false;
        }
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return false;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k < len; ++k) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

static bool deferred_push(Deferred *deferred, const TSQueryMatch *match) {
    if (!reserve((void **)&deferred->pending, &deferred->pending_capacity,
                 deferred->pending_count + 1, sizeof(Pending)) ||
        !reserve((void **)&deferred->captured, &deferred->captured_capacity,
                 deferred->captured_count + match->capture_count, sizeof(Captured))) {
        return false;
    }
    Pending *pending = &deferred->pending[deferred->pending_count++];
    pending->pattern = match->pattern_index;
    pending->first_capture = (uint32_t)deferred->captured_count;
    pending->capture_count = match->capture_count;
    for (uint16_t i = 0; i < match->capture_count; ++i) {
        Captured *c = &deferred->captured[deferred->captured_count++];
        c->id = match->captures[i].index;
        c->start = ts_node_start_byte(match->captures[i].node);
        c->end = ts_node_end_byte(match->captures[i].node);
    }
    return true;
}

/* Whether every text a #match? predicate of this match reads is plain UTF-8. */
static bool regex_texts_plain(const Extractor *self, const TSQueryMatch *match, const char *data) {
    uint32_t first = self->pattern_first[match->pattern_index];
    uint32_t last = self->pattern_first[match->pattern_index + 1];
    for (uint32_t k = first; k < last; ++k) {
        const Predicate *p = &self->predicates[k];
        if (p->type != P_MATCH) {
            continue;
        }
        for (uint16_t i = 0; i < match->capture_count; ++i) {
            if (match->captures[i].index == p->capture1) {
                uint32_t start = ts_node_start_byte(match->captures[i].node);
                uint32_t end = ts_node_end_byte(match->captures[i].node);
                if (!plain_utf8((const unsigned char *)data + start, end - start)) {
                    return false;
                }
            }
        }
    }
    return true;
}

/* 0 done; -1 out of memory; -2 a definition's name has no parent node; -3 a member node
   without a named child (the errors extract.py's Python path meets there); -4 a #match?
   predicate would read text that is not plain UTF-8 (the caller parses the file with
   py-tree-sitter instead: its handling of such text is its own). */
static int collect(const Extractor *self, TSQueryCursor *cursor, TSNode root, const char *data,
                   Recs *out, Deferred *deferred) {
    TSQueryMatch match;
    ts_query_cursor_set_match_limit(cursor, UINT32_MAX);
    ts_query_cursor_exec(cursor, self->query, root);
    while (ts_query_cursor_next_match(cursor, &match)) {
        if (!satisfies(self, &match, data)) {
            continue;
        }
        uint32_t pending = 0;
        if (self->pattern_regex[match.pattern_index]) {
            if (!regex_texts_plain(self, &match, data)) {
                return -4;
            }
            if (!deferred_push(deferred, &match)) {
                return -1;
            }
            pending = (uint32_t)deferred->pending_count;
        }
        TSNode name_node, receiver, import_name, import_alias, ignored;
        bool has_name = find_capture(&match, self->id_name, &name_node);
        for (uint16_t i = 0; i < match.capture_count; ++i) {
            uint32_t id = match.captures[i].index;
            bool seen = false; /* matches() groups by name: only the first node counts */
            for (uint16_t j = 0; j < i && !seen; ++j) {
                seen = match.captures[j].index == id;
            }
            if (seen || id >= self->capture_count || self->roles[id] == ROLE_SKIP) {
                continue;
            }
            TSNode node = match.captures[i].node;
            Rec rec = {.role = self->roles[id], .capture = id, .pending = pending};
            if (rec.role == ROLE_IMPORT) {
                set_span(node, &rec.start, &rec.end);
                rec.row = ts_node_start_point(node).row;
                if (find_capture(&match, self->id_import_star, &ignored)) {
                    rec.flags |= IMP_STAR;
                }
                if (find_capture(&match, self->id_import_name, &import_name)) {
                    rec.flags |= IMP_NAME;
                    set_span(import_name, &rec.a_start, &rec.a_end);
                }
                if (find_capture(&match, self->id_import_alias, &import_alias)) {
                    rec.flags |= IMP_ALIAS;
                    set_span(import_alias, &rec.b_start, &rec.b_end);
                }
                if (!recs_push(out, &rec)) {
                    return -1;
                }
                continue;
            }
            TSNode name;
            if (self->aider[id]) {
                name = node;
            } else if (has_name) {
                name = name_node;
            } else {
                continue;
            }
            set_span(name, &rec.start, &rec.end);
            if (rec.end - rec.start > NAME_MAX_BYTES) {
                continue;
            }
            TSPoint point = ts_node_start_point(name);
            rec.row = point.row;
            rec.col = point.column;
            if (rec.role == ROLE_REF) {
                if (!self->own_receivers) {
                    if (!walked_receiver(self, name, rec.start, &rec)) {
                        return -3;
                    }
                } else if (find_capture(&match, self->id_receiver, &receiver)) {
                    set_span(receiver, &rec.a_start, &rec.a_end);
                    rec.flags = rec.a_end - rec.a_start > RECEIVER_MAX ? RECV_LONG : RECV_SPAN;
                }
            } else {
                TSNode outer = self->aider[id] ? ts_node_parent(name) : node;
                if (ts_node_is_null(outer)) {
                    return -2;
                }
                set_span(outer, &rec.a_start, &rec.a_end);
                rec.b_start = ts_node_end_point(outer).row;
            }
            if (!recs_push(out, &rec)) {
                return -1;
            }
        }
    }
    return 0;
}

/* ---- building the rows (GIL held) ---- */

static PyObject *decode(const char *data, uint32_t start, uint32_t end) {
    return PyUnicode_DecodeUTF8(data + start, (Py_ssize_t)(end - start), "replace");
}

static PyObject *receiver_text(const Rec *rec, const char *data) {
    if (rec->flags == RECV_SPAN) {
        return decode(data, rec->a_start, rec->a_end);
    }
    PyObject *text = rec->flags == RECV_LONG ? ELLIPSIS_TEXT : EMPTY_TEXT;
    Py_INCREF(text);
    return text;
}

/* extract.py's _import: the binding one match adds, or None. */
static PyObject *import_binding(const Rec *rec, const char *data) {
    if (rec->flags & IMP_STAR) {
        Py_INCREF(STAR_BINDING);
        return STAR_BINDING;
    }
    if (rec->flags & IMP_NAME) {
        PyObject *remote = decode(data, rec->a_start, rec->a_end);
        if (remote == NULL) {
            return NULL;
        }
        PyObject *bound = remote;
        Py_INCREF(bound);
        if (rec->flags & IMP_ALIAS) {
            Py_DECREF(bound);
            bound = decode(data, rec->b_start, rec->b_end);
            if (bound == NULL) {
                Py_DECREF(remote);
                return NULL;
            }
        }
        PyObject *binding = PyUnicode_FromFormat("%U=%U", bound, remote);
        Py_DECREF(bound);
        Py_DECREF(remote);
        return binding;
    }
    if (rec->flags & IMP_ALIAS) {
        PyObject *local = decode(data, rec->b_start, rec->b_end);
        if (local == NULL) {
            return NULL;
        }
        PyObject *binding = PyUnicode_FromFormat("%U=", local);
        Py_DECREF(local);
        return binding;
    }
    Py_RETURN_NONE;
}

static PyObject *row_for(const Extractor *self, const Rec *rec, const char *data) {
    PyObject *kind = self->kinds[rec->capture];
    if (rec->role == ROLE_IMPORT) {
        PyObject *binding = import_binding(rec, data);
        if (binding == NULL) {
            return NULL;
        }
        PyObject *text = decode(data, rec->start, rec->end);
        if (text == NULL) {
            Py_DECREF(binding);
            return NULL;
        }
        return Py_BuildValue("(ININ)", rec->start, text, rec->row + 1, binding);
    }
    PyObject *name = decode(data, rec->start, rec->end);
    if (name == NULL) {
        return NULL;
    }
    if (rec->role == ROLE_REF) {
        PyObject *receiver = receiver_text(rec, data);
        if (receiver == NULL) {
            Py_DECREF(name);
            return NULL;
        }
        return Py_BuildValue("(INOIIN)", rec->start, name, kind, rec->row + 1, rec->col + 1,
                             receiver);
    }
    Py_DECREF(name); /* definitions are finished from the records (build_rows) */
    PyErr_SetString(PyExc_SystemError, "row_for: a definition record");
    return NULL;
}

/* ---- definitions' scopes and signatures, references' scopes (extract.py's _symbols) ----
 *
 * The same steps, in the same order, as the Python path: one definition per name
 * position (a later one replaces a `constant`), definitions sorted by (start, -end)
 * keeping their order on ties, references sorted as tuples (PyList_Sort: Python's own
 * comparison), then one sweep in byte order with a stack of open definitions.
 */

#define SIGNATURE_MAX 160

typedef struct {
    uint32_t start, end, row, col, end_line, order;
    PyObject *name, *kind; /* borrowed from the records' lifetime: owned by `names` */
} Def;

typedef struct {
    uint64_t *keys; /* (row + 1) << 32 | (col + 1); 0 = empty */
    uint32_t *slots;
    size_t mask;
} PositionTable;

static bool positions_init(PositionTable *table, size_t count) {
    size_t size = 16;
    while (size < count * 2) {
        size <<= 1;
    }
    table->keys = PyMem_Calloc(size, sizeof(uint64_t));
    table->slots = PyMem_Calloc(size, sizeof(uint32_t));
    table->mask = size - 1;
    return table->keys != NULL && table->slots != NULL;
}

static void positions_free(PositionTable *table) {
    PyMem_Free(table->keys);
    PyMem_Free(table->slots);
}

/* The slot holding `key`, or where it goes (keys[i] == 0). */
static size_t positions_find(const PositionTable *table, uint64_t key) {
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & table->mask;
    while (table->keys[i] != 0 && table->keys[i] != key) {
        i = (i + 1) & table->mask;
    }
    return i;
}

static uint64_t position_key(uint32_t row, uint32_t col) {
    return ((uint64_t)row + 1) << 32 | ((uint64_t)col + 1);
}

static int compare_defs(const void *a, const void *b) {
    const Def *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end > y->end ? -1 : 1; /* -end ascending */
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static PyObject *SIGNATURE_STRIP; /* "strip" */
static PyObject *Unsupported;     /* _native.Unsupported: parse this file with py-tree-sitter */

static PyObject *signature(const char *data, uint32_t size, uint32_t start) {
    const char *newline = start ? memrchr(data, '\n', start) : NULL; /* data.rfind */
    uint32_t line_start = newline ? (uint32_t)(newline - data) + 1 : 0;
    newline = memchr(data + start, '\n', size - start); /* data.find */
    uint32_t line_end = newline ? (uint32_t)(newline - data) : size;
    uint32_t limit = line_start + SIGNATURE_MAX * 2;
    if (line_end > limit) {
        line_end = limit;
    }
    PyObject *line = decode(data, line_start, line_end);
    if (line == NULL) {
        return NULL;
    }
    PyObject *stripped = PyObject_CallMethodNoArgs(line, SIGNATURE_STRIP);
    Py_DECREF(line);
    if (stripped == NULL || PyUnicode_GET_LENGTH(stripped) <= SIGNATURE_MAX) {
        return stripped;
    }
    PyObject *cut = PyUnicode_Substring(stripped, 0, SIGNATURE_MAX);
    Py_DECREF(stripped);
    return cut;
}

typedef struct {
    uint32_t end;
    PyObject *qualified; /* a new reference */
} Open;

typedef struct {
    Open *items;
    size_t count;
} Stack;

static void stack_pop_until(Stack *stack, uint32_t start) {
    while (stack->count && stack->items[stack->count - 1].end <= start) {
        Py_DECREF(stack->items[--stack->count].qualified);
    }
}

static PyObject *stack_scope(const Stack *stack) {
    return stack->count ? stack->items[stack->count - 1].qualified : EMPTY_TEXT;
}

/* References from `*at` up to byte `until` (extract.py's _scope_refs). */
static int scope_refs(PyObject *refs, Py_ssize_t *at, uint32_t until, Stack *stack,
                      const PositionTable *names_at, PyObject *file_id, PyObject *out) {
    Py_ssize_t count = PyList_GET_SIZE(refs);
    long previous = -1;
    while (*at < count) {
        PyObject *raw = PyList_GET_ITEM(refs, *at);
        long start = PyLong_AsLong(PyTuple_GET_ITEM(raw, 0));
        if (start >= (long)until) {
            break;
        }
        ++*at;
        long line = PyLong_AsLong(PyTuple_GET_ITEM(raw, 3));
        long col = PyLong_AsLong(PyTuple_GET_ITEM(raw, 4));
        uint64_t key = position_key((uint32_t)line - 1, (uint32_t)col - 1);
        if (start == previous || names_at->keys[positions_find(names_at, key)] == key) {
            continue; /* matched twice, or a definition's own name */
        }
        previous = start;
        stack_pop_until(stack, (uint32_t)start);
        PyObject *row = PyTuple_Pack(7, file_id, PyTuple_GET_ITEM(raw, 1),
                                     PyTuple_GET_ITEM(raw, 2), PyTuple_GET_ITEM(raw, 3),
                                     PyTuple_GET_ITEM(raw, 4), PyTuple_GET_ITEM(raw, 5),
                                     stack_scope(stack));
        if (row == NULL || PyList_Append(out, row) < 0) {
            Py_XDECREF(row);
            return -1;
        }
        Py_DECREF(row);
    }
    return 0;
}

static PyObject *finish(Def *defs, size_t def_count, PyObject *refs, const char *data,
                        uint32_t size, PyObject *file_id) {
    PyObject *symbols = PyList_New(0), *scoped = PyList_New(0), *result = NULL;
    PositionTable table = {NULL, NULL, 0};
    Stack stack = {PyMem_Calloc(def_count + 1, sizeof(Open)), 0};
    Def *kept = PyMem_Calloc(def_count + 1, sizeof(Def));
    if (!symbols || !scoped || !stack.items || !kept || !positions_init(&table, def_count)) {
        PyErr_NoMemory();
        goto done;
    }
    size_t kept_count = 0;
    for (size_t i = 0; i < def_count; ++i) { /* one per name position */
        uint64_t key = position_key(defs[i].row, defs[i].col);
        size_t slot = positions_find(&table, key);
        if (table.keys[slot] == 0) {
            table.keys[slot] = key;
            table.slots[slot] = (uint32_t)kept_count;
            kept[kept_count] = defs[i];
            kept[kept_count].order = (uint32_t)kept_count;
            ++kept_count;
        } else {
            Def *old = &kept[table.slots[slot]];
            if (PyUnicode_CompareWithASCIIString(old->kind, "constant") == 0) {
                uint32_t order = old->order;
                *old = defs[i];
                old->order = order;
            }
        }
    }
    qsort(kept, kept_count, sizeof(Def), compare_defs);
    if (PyList_Sort(refs) < 0) {
        goto done;
    }
    Py_ssize_t at = 0;
    for (size_t i = 0; i < kept_count; ++i) {
        Def *d = &kept[i];
        if (scope_refs(refs, &at, d->start, &stack, &table, file_id, scoped) < 0) {
            goto done;
        }
        stack_pop_until(&stack, d->start);
        PyObject *scope = stack_scope(&stack);
        PyObject *line = signature(data, size, d->start);
        if (line == NULL) {
            goto done;
        }
        PyObject *row = Py_BuildValue("(OOOIIIOO)", file_id, d->name, d->kind, d->row + 1,
                                      d->col + 1, d->end_line, scope, line);
        Py_DECREF(line);
        if (row == NULL || PyList_Append(symbols, row) < 0) {
            Py_XDECREF(row);
            goto done;
        }
        Py_DECREF(row);
        PyObject *qualified = PyUnicode_GET_LENGTH(scope)
                                  ? PyUnicode_FromFormat("%U.%U", scope, d->name)
                                  : (Py_INCREF(d->name), d->name);
        if (qualified == NULL) {
            goto done;
        }
        stack.items[stack.count].end = d->end;
        stack.items[stack.count].qualified = qualified;
        ++stack.count;
    }
    if (scope_refs(refs, &at, size + 1, &stack, &table, file_id, scoped) < 0) {
        goto done;
    }
    result = PyTuple_Pack(2, symbols, scoped);
done:
    stack_pop_until(&stack, UINT32_MAX);
    PyMem_Free(stack.items);
    PyMem_Free(kept);
    positions_free(&table);
    Py_XDECREF(symbols);
    Py_XDECREF(scoped);
    return result;
}

/* py-tree-sitter's satisfies_match, for the deferred matches: keep[i] for each. */
static int check_deferred(const Extractor *self, const Deferred *deferred, const char *data,
                          uint8_t *keep) {
    for (size_t m = 0; m < deferred->pending_count; ++m) {
        const Pending *pending = &deferred->pending[m];
        const Captured *captured = &deferred->captured[pending->first_capture];
        bool satisfied = true;
        uint32_t first = self->pattern_first[pending->pattern];
        uint32_t last = self->pattern_first[pending->pattern + 1];
        for (uint32_t k = first; k < last && satisfied; ++k) {
            const Predicate *p = &self->predicates[k];
            if (p->type != P_MATCH) {
                continue;
            }
            int result = 1;
            for (uint32_t i = 0; i < pending->capture_count; ++i) {
                if (captured[i].id != p->capture1) {
                    continue;
                }
                PyObject *text = PyUnicode_DecodeUTF8(data + captured[i].start,
                                                      captured[i].end - captured[i].start, NULL);
                if (text == NULL) {
                    return -1;
                }
                PyObject *found = PyObject_CallMethod(p->regex, "search", "O", text);
                Py_DECREF(text);
                if (found == NULL) {
                    return -1;
                }
                result = (found != Py_None) == p->is_positive;
                Py_DECREF(found);
                if (predicate_break(p, result)) {
                    break;
                }
            }
            satisfied = result == 1;
        }
        keep[m] = satisfied;
    }
    return 0;
}

static PyObject *build_rows(const Extractor *self, const Recs *recs, const Deferred *deferred,
                            const char *data, uint32_t size, bool has_error,
                            PyObject *file_id) {
    PyObject *names = PyList_New(0), *refs = PyList_New(0), *imports = PyList_New(0);
    PyObject *finished = NULL;
    Def *defs = PyMem_Calloc(recs->count + 1, sizeof(Def));
    uint8_t *keep = PyMem_Calloc(deferred->pending_count + 1, 1);
    size_t def_count = 0;
    if (names == NULL || refs == NULL || imports == NULL || defs == NULL || keep == NULL) {
        goto error;
    }
    if (check_deferred(self, deferred, data, keep) < 0) {
        goto error;
    }
    for (size_t i = 0; i < recs->count; ++i) {
        const Rec *rec = &recs->items[i];
        if (rec->pending && !keep[rec->pending - 1]) {
            continue; /* its match failed a #match? predicate */
        }
        if (rec->role == ROLE_DEF) { /* the name is kept alive by `names` */
            PyObject *name = decode(data, rec->start, rec->end);
            if (name == NULL || PyList_Append(names, name) < 0) {
                Py_XDECREF(name);
                goto error;
            }
            Py_DECREF(name);
            defs[def_count++] = (Def){rec->a_start, rec->a_end, rec->row, rec->col,
                                      rec->b_start + 1, 0, name, self->kinds[rec->capture]};
            continue;
        }
        PyObject *row = row_for(self, rec, data);
        if (row == NULL) {
            goto error;
        }
        int failed = PyList_Append(rec->role == ROLE_REF ? refs : imports, row);
        Py_DECREF(row);
        if (failed) {
            goto error;
        }
    }
    finished = finish(defs, def_count, refs, data, size, file_id);
    if (finished == NULL) {
        goto error;
    }
    PyObject *result = Py_BuildValue("(OOOO)", PyTuple_GET_ITEM(finished, 0),
                                     PyTuple_GET_ITEM(finished, 1), imports,
                                     has_error ? Py_True : Py_False);
    Py_DECREF(finished);
    Py_DECREF(names);
    Py_DECREF(refs);
    Py_DECREF(imports);
    PyMem_Free(defs);
    PyMem_Free(keep);
    return result;
error:
    if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    Py_XDECREF(names);
    Py_XDECREF(refs);
    Py_XDECREF(imports);
    PyMem_Free(defs);
    PyMem_Free(keep);
    return NULL;
}

static PyObject *extractor_run(Extractor *self, PyObject *args) {
    PyObject *source, *file_id;
    if (!PyArg_ParseTuple(args, "O!O!:run", &PyBytes_Type, &source, &PyLong_Type, &file_id)) {
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(source);
    if (size >= (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "source too large for tree-sitter (4 GiB)");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Extractor.run is already running in another thread");
        return NULL;
    }
    const char *data = PyBytes_AS_STRING(source); /* immutable, and args holds a reference */
    Recs recs = {NULL, 0, 0};
    Deferred deferred = {NULL, 0, 0, NULL, 0, 0};
    TSTree *tree = NULL;
    int status = 0;
    bool has_error = false;
    self->busy = true;
    Py_BEGIN_ALLOW_THREADS
    current_arena = &self->arena;
    TSParser *parser = ts_parser_new();
    if (ts_parser_set_language(parser, self->language)) {
        tree = ts_parser_parse_string_encoding(parser, NULL, data, (uint32_t)size,
                                               TSInputEncodingUTF8);
    }
    if (tree != NULL) {
        TSNode root = ts_tree_root_node(tree);
        has_error = ts_node_has_error(root);
        status = collect(self, ts_query_cursor_new(), root, data, &recs, &deferred);
    }
    /* The tree and the cursor go with the arena; the parser is deleted for the sake of
       its external scanner, whose state the grammar allocates with its own malloc. */
    ts_parser_delete(parser);
    arena_reset(&self->arena);
    current_arena = NULL;
    Py_END_ALLOW_THREADS
    self->busy = false;
    PyObject *result = NULL;
    if (tree == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tree-sitter returned no tree");
    } else if (status == -1) {
        PyErr_NoMemory();
    } else if (status == -2) { /* what `None.start_byte` raises on the Python path */
        PyErr_SetString(PyExc_AttributeError, "'NoneType' object has no attribute 'start_byte'");
    } else if (status == -3) { /* what Node.named_child(0) raises on the Python path */
        PyErr_SetString(PyExc_IndexError, "child index out of range");
    } else if (status == -4) {
        PyErr_SetString(Unsupported, "a #match? predicate reads text that is not plain UTF-8");
    } else {
        result = build_rows(self, &recs, &deferred, data, (uint32_t)size, has_error, file_id);
    }
    PyMem_RawFree(recs.items);
    PyMem_RawFree(deferred.pending);
    PyMem_RawFree(deferred.captured);
    return result;
}

/* ---- the Extractor type ---- */

static void extractor_dealloc(Extractor *self) {
    if (self->query) {
        ts_query_delete(self->query);
    }
    arena_free_all(&self->arena);
    if (self->kinds) {
        for (uint32_t i = 0; i < self->capture_count; ++i) {
            Py_XDECREF(self->kinds[i]);
        }
        PyMem_Free(self->kinds);
    }
    PyMem_Free(self->roles);
    PyMem_Free(self->aider);
    PyMem_Free(self->member);
    if (self->predicates) {
        for (uint32_t i = 0; self->pattern_first && i < self->predicate_count; ++i) {
            Py_XDECREF(self->predicates[i].regex);
        }
    }
    PyMem_Free(self->predicates);
    PyMem_Free(self->pattern_regex);
    PyMem_Free(self->pattern_first);
    PyMem_Free(self->values);
    PyMem_Free(self->value_lengths);
    Py_XDECREF(self->language_obj);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static const char *QUERY_ERRORS[] = {"none", "syntax", "node type", "field", "capture",
                                     "structure", "language"};

/* Ask roles(name) -> (role, kind, aider) for each capture, and find the special ones. */
static int load_captures(Extractor *self, PyObject *roles) {
    uint32_t count = self->capture_count = ts_query_capture_count(self->query);
    self->roles = PyMem_Calloc(count + 1, 1);
    self->aider = PyMem_Calloc(count + 1, 1);
    self->kinds = PyMem_Calloc(count + 1, sizeof(PyObject *));
    if (!self->roles || !self->aider || !self->kinds) {
        PyErr_NoMemory();
        return -1;
    }
    self->id_name = self->id_receiver = self->id_import_name = NO_CAPTURE;
    self->id_import_alias = self->id_import_star = NO_CAPTURE;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t length;
        const char *name = ts_query_capture_name_for_id(self->query, i, &length);
        if (NAME_IS("name")) {
            self->id_name = i;
        } else if (NAME_IS("receiver")) {
            self->id_receiver = i;
        } else if (NAME_IS("import.name")) {
            self->id_import_name = i;
        } else if (NAME_IS("import.alias")) {
            self->id_import_alias = i;
        } else if (NAME_IS("import.star")) {
            self->id_import_star = i;
        }
        PyObject *role = PyObject_CallFunction(roles, "s#", name, (Py_ssize_t)length);
        if (role == NULL) {
            return -1;
        }
        if (!PyTuple_Check(role)) {
            PyErr_Format(PyExc_TypeError, "role of @%s: a (role, kind, aider) tuple, not %s",
                         name, Py_TYPE(role)->tp_name);
            Py_DECREF(role);
            return -1;
        }
        int code, aider;
        PyObject *kind;
        if (!PyArg_ParseTuple(role, "iUp", &code, &kind, &aider) || code < ROLE_SKIP ||
            code > ROLE_IMPORT) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "role of @%s: %d is no role", name, code);
            }
            Py_DECREF(role);
            return -1;
        }
        Py_INCREF(kind);
        self->kinds[i] = kind;
        self->roles[i] = (uint8_t)code;
        self->aider[i] = (uint8_t)aider;
        Py_DECREF(role);
    }
    return 0;
}

/* Mark the node types holding `receiver.name` (1) and Swift's navigation_suffix (2). */
static int load_members(Extractor *self, PyObject *members) {
    uint32_t count = self->symbol_count = ts_language_symbol_count(self->language);
    self->member = PyMem_Calloc(count + 1, 1);
    if (self->member == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t symbol = 0; symbol < count; ++symbol) {
        const char *name = ts_language_symbol_name(self->language, (TSSymbol)symbol);
        if (name == NULL) {
            continue;
        }
        if (strcmp(name, "navigation_suffix") == 0) {
            self->member[symbol] = 2;
            continue;
        }
        PyObject *text = PyUnicode_FromString(name);
        if (text == NULL) {
            PyErr_Clear(); /* a type name that is not UTF-8 is no member node */
            continue;
        }
        int found = PySequence_Contains(members, text);
        Py_DECREF(text);
        if (found < 0) {
            return -1;
        }
        self->member[symbol] = found ? 1 : 0;
    }
    return 0;
}

static int extractor_init(Extractor *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"language", "source", "roles", "members", "receivers", NULL};
    PyObject *capsule, *roles, *members;
    const char *source;
    Py_ssize_t source_length;
    int receivers;
    if (self->language_obj != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Extractor is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Os#OOp:Extractor", keywords, &capsule,
                                     &source, &source_length, &roles, &members, &receivers)) {
        return -1;
    }
    if (!PyCallable_Check(roles)) {
        PyErr_SetString(PyExc_TypeError, "roles must be callable");
        return -1;
    }
    if (!PySet_Check(members) && !PyFrozenSet_Check(members)) {
        PyErr_SetString(PyExc_TypeError, "members must be a set or frozenset of node types");
        return -1;
    }
    if (!PyCapsule_CheckExact(capsule)) {
        PyErr_Format(PyExc_TypeError, "language must be a grammar's language() capsule, not %s",
                     Py_TYPE(capsule)->tp_name);
        return -1;
    }
    const TSLanguage *language = PyCapsule_GetPointer(capsule, "tree_sitter.Language");
    if (language == NULL) {
        return -1;
    }
    uint32_t abi = ts_language_abi_version(language);
    if (abi < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || abi > TREE_SITTER_LANGUAGE_VERSION) {
        PyErr_Format(PyExc_ValueError,
                     "grammar ABI version %u is outside this runtime's %d..%d", abi,
                     TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION);
        return -1;
    }
    Py_INCREF(capsule);
    self->language_obj = capsule;
    self->language = language;
    self->own_receivers = receivers;
    TSParser *parser = ts_parser_new(); /* only to ask whether it takes the grammar */
    bool accepted = ts_parser_set_language(parser, language);
    ts_parser_delete(parser);
    if (!accepted) {
        PyErr_SetString(PyExc_ValueError, "tree-sitter refused the grammar");
        return -1;
    }
    uint32_t error_offset;
    TSQueryError error_type;
    self->query = ts_query_new(language, source, (uint32_t)source_length, &error_offset,
                               &error_type);
    if (self->query == NULL) {
        const char *what = (unsigned)error_type < sizeof(QUERY_ERRORS) / sizeof(*QUERY_ERRORS)
                               ? QUERY_ERRORS[error_type]
                               : "unknown";
        PyErr_Format(PyExc_ValueError, "invalid query: %s error at byte %u", what, error_offset);
        return -1;
    }
    PyObject *re = PyImport_ImportModule("re"); /* py-tree-sitter's #match? engine */
    PyObject *re_compile = re ? PyObject_GetAttrString(re, "compile") : NULL;
    Py_XDECREF(re);
    if (re_compile == NULL) {
        return -1;
    }
    int loaded = load_captures(self, roles) < 0 || load_members(self, members) < 0 ||
                 load_predicates(self, re_compile) < 0;
    Py_DECREF(re_compile);
    if (loaded != 0) {
        return -1;
    }
    self->ready = true;
    return 0;
}

static PyObject *extractor_run_ready(Extractor *self, PyObject *args) {
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Extractor was not initialised");
        return NULL;
    }
    return extractor_run(self, args);
}

static PyMethodDef extractor_methods[] = {
    {"run", (PyCFunction)extractor_run_ready, METH_VARARGS,
     PyDoc_STR("run(source: bytes, file_id: int) -> (symbols, references, imports, has_error)")},
    {NULL, NULL, 0, NULL},
};

static PyObject *extractor_arena_peak(Extractor *self, void *closure) {
    (void)closure;
    return PyLong_FromSize_t(self->arena.peak);
}

static PyGetSetDef extractor_getset[] = {
    {"arena_peak", (getter)extractor_arena_peak, NULL,
     PyDoc_STR("The most bytes one run's arena has held (the largest file's parse)."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ExtractorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lynkr_cli.index._native.Extractor",
    .tp_basicsize = sizeof(Extractor),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("A grammar's parser and compiled tags query, reused file after file."),
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)extractor_init,
    .tp_dealloc = (destructor)extractor_dealloc,
    .tp_methods = extractor_methods,
    .tp_getset = extractor_getset,
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "lynkr_cli.index._native",
    .m_doc = PyDoc_STR("tree-sitter parsing and tags queries in C for lynkr's indexer."),
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__native(void) {
    ts_set_allocator(ts_alloc_malloc, ts_alloc_calloc, ts_alloc_realloc, ts_alloc_free);
    ELLIPSIS_TEXT = PyUnicode_FromString("\xe2\x80\xa6");
    EMPTY_TEXT = PyUnicode_FromString("");
    STAR_BINDING = PyUnicode_FromString("*=*");
    SIGNATURE_STRIP = PyUnicode_InternFromString("strip");
    if (!ELLIPSIS_TEXT || !EMPTY_TEXT || !STAR_BINDING || !SIGNATURE_STRIP || PyType_Ready(&ExtractorType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL) {
        return NULL;
    }
#ifdef LYNKR_PROFILE_GUIDED
    PyObject *guided = Py_True;
#else
    PyObject *guided = Py_False;
#endif
    if (PyModule_AddObjectRef(module, "PROFILE_GUIDED", guided) < 0 ||
        PyModule_AddIntConstant(module, "LANGUAGE_VERSION", TREE_SITTER_LANGUAGE_VERSION) < 0 ||
        PyModule_AddIntConstant(module, "MIN_COMPATIBLE_LANGUAGE_VERSION",
                                TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    Unsupported = PyErr_NewExceptionWithDoc(
        "lynkr_cli.index._native.Unsupported",
        "This file needs py-tree-sitter: a #match? predicate reads text that is not plain UTF-8.",
        NULL, NULL);
    if (Unsupported == NULL || PyModule_AddObjectRef(module, "Unsupported", Unsupported) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ExtractorType);
    if (PyModule_AddObject(module, "Extractor", (PyObject *)&ExtractorType) < 0) {
        Py_DECREF(&ExtractorType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
