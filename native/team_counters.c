/* lynkr_cli.team._counters: the team gateway's in-memory limit counters, in C.
 *
 * The optional accelerator of lynkr_cli/team/limits.py (its Python side; the stub is
 * lynkr_cli/team/_counters.pyi). It works on exactly the data the pure-Python
 * MemoryLimitStore keeps (a dict of key id -> {counter: [window start, value]}) and
 * gives exactly what the Python code gives: Check and Decision tuples, the same header
 * dict (or the same headers as HTTP/1.1 header lines, which the gateway writes as they
 * are). tests/team/test_counters_native.py runs both on the same random sequences and
 * compares every answer and every counter.
 *
 *   configure(Check, Decision, kinds, when_empty, requests, tokens, names, resets, fmt)
 *   admit(keys, key_id, plan, windows, amounts) -> (checks, decision, lines)
 *   settle(keys, key_id, checks, amounts) -> None
 *   headers(checks, values) -> dict
 *   lines(checks, values) -> bytes ("name: value\r\n" each) or None (see Sink)
 *
 * admit() and settle() are atomic: they hold the GIL throughout and run no Python code
 * while they read and change the counters. The one way Python code could run inside
 * them, the garbage collector (an allocation may start a collection, and a finalizer
 * is Python code, which may let another thread in), is switched off for the call. So
 * the store needs no lock of its own around them (its Python methods keep theirs).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyTypeObject *CheckType = NULL;    /* lynkr_cli.team.store.Check (a tuple) */
static PyTypeObject *DecisionType = NULL; /* lynkr_cli.team.store.Decision */
static PyObject *Kinds = NULL;     /* dict: counter -> 0 requests, 1 tokens, 2 nano-USD */
static PyObject *WhenEmpty = NULL; /* the counter an oversize estimate may pass (tok/m) */
static PyObject *Requests = NULL;  /* req/m: the requests-* headers */
static PyObject *Tokens = NULL;    /* frozenset: counters behind the tokens-* headers */
static PyObject *Names = NULL;     /* ((3 requests-* names), (3 tokens-* names)) */
static PyObject *Resets = NULL;    /* dict: window end -> its RFC 3339 text (a cache) */
static PyObject *Format = NULL;    /* window end -> RFC 3339 text */

#define RESETS_KEPT 64
#define COUNTERS 8 /* the counter names configure() knows, with their kinds */

static PyObject *Known[COUNTERS];
static long KnownKind[COUNTERS];
static int KnownCount = 0;

/* Fast paths: exact ints that fit a C long long, exact floats, exact str. Anything else
 * takes the generic (Python-semantics) path, so results never differ. */
static inline int small(PyObject *o, long long *v) {
    if (!PyLong_CheckExact(o)) return 0;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *v = x;
    return 1;
}

static PyObject *add(PyObject *a, PyObject *b) {
    long long x, y, r;
    if (small(a, &x) && small(b, &y) && !__builtin_add_overflow(x, y, &r))
        return PyLong_FromLongLong(r);
    return PyNumber_Add(a, b);
}

static PyObject *sub(PyObject *a, PyObject *b) {
    long long x, y, r;
    if (small(a, &x) && small(b, &y) && !__builtin_sub_overflow(x, y, &r))
        return PyLong_FromLongLong(r);
    return PyNumber_Subtract(a, b);
}

/* PyObject_RichCompareBool, with ints and floats compared in C. */
static int compare(PyObject *a, PyObject *b, int op) {
    long long x, y;
    double f, g;
    if (small(a, &x) && small(b, &y)) {
        switch (op) {
        case Py_LT: return x < y;
        case Py_GT: return x > y;
        case Py_EQ: return x == y;
        default: break;
        }
    } else if (PyFloat_CheckExact(a) && PyFloat_CheckExact(b)) {
        f = PyFloat_AS_DOUBLE(a);
        g = PyFloat_AS_DOUBLE(b);
        switch (op) {
        case Py_LT: return f < g;
        case Py_GT: return f > g;
        case Py_EQ: return f == g;
        default: break;
        }
    }
    return PyObject_RichCompareBool(a, b, op);
}

/* a == b for counter names (identity first: they are the same interned constants). */
static int same_name(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
        if (PyUnicode_GET_LENGTH(a) != PyUnicode_GET_LENGTH(b)) return 0;
        return PyUnicode_Compare(a, b) == 0;
    }
    return PyObject_RichCompareBool(a, b, Py_EQ);
}

/* v's decimal digits, written backwards ending at ``end`` (24 bytes are enough); returns
 * where they start. */
static char *digits(long long v, char *end) {
    char *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return p;
}

/* str(o), with a C conversion for an int that fits a long long. */
static PyObject *text_of(PyObject *o) {
    long long v;
    if (!small(o, &v)) return PyObject_Str(o);
    char buf[24];
    char *end = buf + sizeof buf, *p = digits(v, end);
    PyObject *text = PyUnicode_New(end - p, 127);
    if (text == NULL) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(text), p, (size_t)(end - p));
    return text;
}

/* Whether the call has its ``want`` arguments (else a TypeError showing ``usage``). */
static int arity(Py_ssize_t nargs, Py_ssize_t want, const char *usage) {
    if (nargs == want) return 1;
    PyErr_Format(PyExc_TypeError, "expected %s", usage);
    return 0;
}

/* ``o`` when it is a tuple of at least ``fields`` items (a Check), else NULL and a
 * TypeError: a borrowed reference. */
static PyObject *as_check(PyObject *o, Py_ssize_t fields) {
    if (PyTuple_Check(o) && PyTuple_GET_SIZE(o) >= fields) return o;
    PyErr_SetString(PyExc_TypeError, "a check must be a Check");
    return NULL;
}

static int configured(void) {
    if (CheckType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "lynkr_cli.team._counters: configure() first");
        return 0;
    }
    return 1;
}

/* A tuple subtype instance (a NamedTuple) from n new references, as tuple.__new__. */
static PyObject *named(PyTypeObject *type, Py_ssize_t n, PyObject **items) {
    PyObject *t = type == &PyTuple_Type ? PyTuple_New(n) : type->tp_alloc(type, n);
    if (t == NULL) {
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(items[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, i, items[i]);
    return t;
}

/* ``int(entry[1]) if entry is not None and entry[0] == window else 0``: a new reference. */
static PyObject *current_value(PyObject *entry, PyObject *window) {
    if (entry != NULL) {
        if (!PyList_Check(entry) || PyList_GET_SIZE(entry) != 2) {
            PyErr_SetString(PyExc_TypeError, "a counter entry must be [window, value]");
            return NULL;
        }
        int same = compare(PyList_GET_ITEM(entry, 0), window, Py_EQ);
        if (same < 0) return NULL;
        if (same) {
            PyObject *value = PyList_GET_ITEM(entry, 1);
            if (PyLong_CheckExact(value)) return Py_NewRef(value);
            return PyNumber_Long(value);
        }
    }
    return PyLong_FromLong(0);
}

/* keys.get(key_id), created empty when missing: a borrowed reference. */
static PyObject *slots_of(PyObject *keys, PyObject *key_id) {
    if (!PyDict_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "keys must be a dict");
        return NULL;
    }
    PyObject *slots = PyDict_GetItemWithError(keys, key_id);
    if (slots != NULL || PyErr_Occurred()) {
        if (slots != NULL && !PyDict_Check(slots)) {
            PyErr_SetString(PyExc_TypeError, "a key's counters must be a dict");
            return NULL;
        }
        return slots;
    }
    slots = PyDict_New();
    if (slots == NULL) return NULL;
    int failed = PyDict_SetItem(keys, key_id, slots);
    Py_DECREF(slots); /* the dict holds it */
    return failed ? NULL : slots;
}

/* amounts[kinds[counter]]: a borrowed reference. */
static PyObject *amount_of(PyObject *counter, PyObject *amounts) {
    for (int k = 0; k < KnownCount; k++) {
        if (Known[k] == counter) {
            if (KnownKind[k] < 0 || KnownKind[k] >= PyTuple_GET_SIZE(amounts)) break;
            return PyTuple_GET_ITEM(amounts, KnownKind[k]);
        }
    }
    PyObject *kind = PyDict_GetItemWithError(Kinds, counter);
    if (kind == NULL) {
        if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, counter);
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(kind);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || i >= PyTuple_GET_SIZE(amounts)) {
        PyErr_SetString(PyExc_IndexError, "amounts has no entry for this counter's kind");
        return NULL;
    }
    return PyTuple_GET_ITEM(amounts, i);
}

/* The checks of ``plan`` in ``windows`` charged ``amounts``: a new list of Check. */
static PyObject *build_checks(PyObject *plan, PyObject *windows, PyObject *amounts) {
    Py_ssize_t n = PyTuple_GET_SIZE(plan);
    PyObject *checks = PyList_New(n);
    if (checks == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *step = PyTuple_GET_ITEM(plan, i);
        if (!PyTuple_Check(step) || PyTuple_GET_SIZE(step) != 3) {
            PyErr_SetString(PyExc_TypeError, "a plan step must be (counter, limit, window)");
            goto fail;
        }
        PyObject *counter = PyTuple_GET_ITEM(step, 0);
        Py_ssize_t w = PyLong_AsSsize_t(PyTuple_GET_ITEM(step, 2));
        if (w == -1 && PyErr_Occurred()) goto fail;
        if (w < 0 || w >= PyTuple_GET_SIZE(windows)) {
            PyErr_SetString(PyExc_IndexError, "no such window");
            goto fail;
        }
        PyObject *window = PyTuple_GET_ITEM(windows, w);
        if (!PyTuple_Check(window) || PyTuple_GET_SIZE(window) != 2) {
            PyErr_SetString(PyExc_TypeError, "a window must be (start, end)");
            goto fail;
        }
        PyObject *amount = amount_of(counter, amounts);
        if (amount == NULL) goto fail;
        int empty = same_name(counter, WhenEmpty);
        if (empty < 0) goto fail;
        PyObject *items[6] = {
            Py_NewRef(counter),
            Py_NewRef(PyTuple_GET_ITEM(window, 0)),
            Py_NewRef(PyTuple_GET_ITEM(window, 1)),
            Py_NewRef(amount),
            Py_NewRef(PyTuple_GET_ITEM(step, 1)),
            Py_NewRef(empty ? Py_True : Py_False),
        };
        PyObject *check = named(CheckType, 6, items);
        if (check == NULL) goto fail;
        PyList_SET_ITEM(checks, i, check);
    }
    return checks;
fail:
    Py_DECREF(checks);
    return NULL;
}

/* A refusal at check ``failed``: what each counter was before this request. */
static PyObject *refused(PyObject *slots, PyObject *checks, PyObject **found, Py_ssize_t failed) {
    Py_ssize_t n = PyList_GET_SIZE(checks);
    PyObject *values = PyTuple_New(n);
    if (values == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *check = PyList_GET_ITEM(checks, i);
        PyObject *value;
        if (i < failed) { /* charged in this pass, not stored: take the amount back */
            value = sub(found[i], PyTuple_GET_ITEM(check, 3));
        } else {
            PyObject *entry = PyDict_GetItemWithError(slots, PyTuple_GET_ITEM(check, 0));
            if (entry == NULL && PyErr_Occurred()) value = NULL;
            else value = current_value(entry, PyTuple_GET_ITEM(check, 1));
        }
        if (value == NULL) {
            Py_DECREF(values);
            return NULL;
        }
        PyTuple_SET_ITEM(values, i, value);
    }
    PyObject *items[3] = {Py_NewRef(Py_False), values, PyLong_FromSsize_t(failed)};
    if (items[2] == NULL) {
        Py_DECREF(items[0]);
        Py_DECREF(values);
        return NULL;
    }
    return named(DecisionType, 3, items);
}

static PyObject *headers_of(PyObject *checks, PyObject *values, int as_lines);

/* MemoryLimitStore.acquire_sync on ``checks`` (a list of Check): a new Decision. A
 * counter already in the window is updated in its list; a new window gets a new list. */
static PyObject *acquire(PyObject *slots, PyObject *checks) {
    Py_ssize_t n = PyList_GET_SIZE(checks);
    PyObject *found[16], *entries[16];
    PyObject *result = NULL;
    if (n > 16) {
        PyErr_SetString(PyExc_ValueError, "at most 16 checks");
        return NULL;
    }
    Py_ssize_t done = 0;
    for (; done < n; done++) {
        PyObject *check = PyList_GET_ITEM(checks, done);
        PyObject *counter = PyTuple_GET_ITEM(check, 0);
        PyObject *window = PyTuple_GET_ITEM(check, 1);
        PyObject *amount = PyTuple_GET_ITEM(check, 3);
        PyObject *limit = PyTuple_GET_ITEM(check, 4);
        PyObject *entry = PyDict_GetItemWithError(slots, counter);
        if (entry == NULL && PyErr_Occurred()) goto out;
        PyObject *current = current_value(entry, window);
        if (current == NULL) goto out;
        PyObject *after = add(current, amount);
        if (after == NULL) {
            Py_DECREF(current);
            goto out;
        }
        int over = compare(after, limit, Py_GT);
        if (over > 0) { /* ``and not (when_empty and current == 0)`` */
            int empty = PyObject_IsTrue(PyTuple_GET_ITEM(check, 5));
            if (empty > 0) {
                int zero = PyObject_Not(current);
                over = zero < 0 ? -1 : !zero;
            } else if (empty < 0) {
                over = -1;
            }
        }
        Py_DECREF(current);
        if (over < 0) {
            Py_DECREF(after);
            goto out;
        }
        if (over) {
            Py_DECREF(after);
            result = refused(slots, checks, found, done);
            goto out;
        }
        found[done] = after;
        /* Kept only when it holds this window (then it is updated in place). */
        entries[done] = NULL;
        if (entry != NULL && compare(PyList_GET_ITEM(entry, 0), window, Py_EQ) == 1)
            entries[done] = Py_NewRef(entry);
        if (PyErr_Occurred()) {
            done++;
            goto out;
        }
    }
    /* Every check passed: charge them all. */
    PyObject *values = PyTuple_New(n);
    if (values == NULL) goto out;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *check = PyList_GET_ITEM(checks, i);
        PyObject *entry = entries[i];
        if (entry != NULL && PyList_GET_SIZE(entry) == 2) {
            PyList_SetItem(entry, 1, Py_NewRef(found[i])); /* steals; drops the old value */
        } else {
            PyObject *fresh = PyList_New(2);
            if (fresh == NULL) {
                Py_DECREF(values);
                goto out;
            }
            PyList_SET_ITEM(fresh, 0, Py_NewRef(PyTuple_GET_ITEM(check, 1)));
            PyList_SET_ITEM(fresh, 1, Py_NewRef(found[i]));
            int failed = PyDict_SetItem(slots, PyTuple_GET_ITEM(check, 0), fresh);
            Py_DECREF(fresh);
            if (failed) {
                Py_DECREF(values);
                goto out;
            }
        }
        PyTuple_SET_ITEM(values, i, Py_NewRef(found[i]));
    }
    PyObject *items[3] = {Py_NewRef(Py_True), values, PyLong_FromLong(-1)};
    if (items[2] == NULL) {
        Py_DECREF(items[0]);
        Py_DECREF(values);
        goto out;
    }
    result = named(DecisionType, 3, items);
out:
    for (Py_ssize_t i = 0; i < done; i++) {
        Py_DECREF(found[i]);
        Py_XDECREF(entries[i]);
    }
    return result;
}

static PyObject *counters_admit(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!configured() || !arity(nargs, 5, "admit(keys, key_id, plan, windows, amounts)"))
        return NULL;
    PyObject *plan = args[2], *windows = args[3], *amounts = args[4];
    if (!PyTuple_Check(plan) || !PyTuple_Check(windows) || !PyTuple_Check(amounts)) {
        PyErr_SetString(PyExc_TypeError, "plan, windows and amounts must be tuples");
        return NULL;
    }
    int gc = PyGC_Disable();
    PyObject *slots = slots_of(args[0], args[1]);
    PyObject *checks = slots != NULL ? build_checks(plan, windows, amounts) : NULL;
    PyObject *decision = checks != NULL ? acquire(slots, checks) : NULL;
    if (gc) PyGC_Enable();
    if (checks == NULL) return NULL;
    if (decision == NULL) {
        Py_DECREF(checks);
        return NULL;
    }
    PyObject *headers = headers_of(checks, PyTuple_GET_ITEM(decision, 1), 1);
    if (headers == NULL) {
        Py_DECREF(checks);
        Py_DECREF(decision);
        return NULL;
    }
    PyObject *items[3] = {checks, decision, headers};
    return named(&PyTuple_Type, 3, items); /* steals the three */
}

/* MemoryLimitStore.add_sync for each check whose amount (by its kind) is not zero. */
static PyObject *settle(PyObject *const *args);

static PyObject *counters_settle(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!configured() || !arity(nargs, 4, "settle(keys, key_id, checks, amounts)")) return NULL;
    int gc = PyGC_Disable();
    PyObject *result = settle(args);
    if (gc) PyGC_Enable();
    return result;
}

static PyObject *settle(PyObject *const *args) {
    PyObject *checks = args[2], *amounts = args[3];
    if (!PyList_Check(checks) || !PyTuple_Check(amounts)) {
        PyErr_SetString(PyExc_TypeError, "checks must be a list and amounts a tuple");
        return NULL;
    }
    PyObject *slots = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(checks); i++) {
        PyObject *check = as_check(PyList_GET_ITEM(checks, i), 3);
        if (check == NULL) return NULL;
        PyObject *counter = PyTuple_GET_ITEM(check, 0);
        PyObject *window = PyTuple_GET_ITEM(check, 1);
        PyObject *amount = amount_of(counter, amounts);
        if (amount == NULL) return NULL;
        long long small_amount;
        int zero = small(amount, &small_amount) ? small_amount == 0 : PyObject_Not(amount);
        if (zero < 0) return NULL;
        if (zero) continue; /* the request count never changes */
        if (slots == NULL && (slots = slots_of(args[0], args[1])) == NULL) return NULL;
        PyObject *entry = PyDict_GetItemWithError(slots, counter);
        if (entry == NULL && PyErr_Occurred()) return NULL;
        if (entry != NULL && (!PyList_Check(entry) || PyList_GET_SIZE(entry) != 2)) {
            PyErr_SetString(PyExc_TypeError, "a counter entry must be [window, value]");
            return NULL;
        }
        int same = 0, newer = 1;
        if (entry != NULL) {
            same = compare(PyList_GET_ITEM(entry, 0), window, Py_EQ);
            if (same < 0) return NULL;
            if (!same) {
                newer = compare(PyList_GET_ITEM(entry, 0), window, Py_LT);
                if (newer < 0) return NULL;
            }
        }
        if (same) { /* entry[1] += amount */
            PyObject *sum = add(PyList_GET_ITEM(entry, 1), amount);
            if (sum == NULL) return NULL;
            PyList_SetItem(entry, 1, sum); /* steals sum */
        } else if (newer) { /* a new window: slots[counter] = [window, amount] */
            PyObject *fresh = PyList_New(2);
            if (fresh == NULL) return NULL;
            PyList_SET_ITEM(fresh, 0, Py_NewRef(window));
            PyList_SET_ITEM(fresh, 1, Py_NewRef(amount));
            int failed = PyDict_SetItem(slots, counter, fresh);
            Py_DECREF(fresh);
            if (failed) return NULL;
        } /* else: a change for a window that has rolled over is dropped */
    }
    Py_RETURN_NONE;
}

/* Where headers_of() puts the headers: a dict, or (dict == NULL) HTTP/1.1 header lines
 * ``name: value\r\n`` in a fixed buffer. A line that would not fit, or a name or value
 * holding a CR or LF (none can: the names are configure()'s, the values integers and
 * RFC 3339 text), sets ``spoiled``: the caller then answers None and the Python side
 * renders the dict instead. */
#define LINES_MAX 1024
typedef struct {
    PyObject *dict;
    char *lines;
    Py_ssize_t len;
    int spoiled;
} Sink;

static void append_raw(Sink *out, const char *data, Py_ssize_t n) {
    if (out->spoiled) return;
    if (n > LINES_MAX - out->len) {
        out->spoiled = 1;
        return;
    }
    memcpy(out->lines + out->len, data, (size_t)n);
    out->len += n;
}

/* A name or a value: never a CR or LF (header injection), else the sink is spoiled. */
static void append(Sink *out, const char *data, Py_ssize_t n) {
    if (memchr(data, '\r', (size_t)n) || memchr(data, '\n', (size_t)n)) out->spoiled = 1;
    append_raw(out, data, n);
}

/* One line ``name: value\r\n``; the value is checked for CR/LF unless ``digits_only``
 * (digits written here). -1 on a Python error. */
static int emit(Sink *out, PyObject *name, const char *value, Py_ssize_t m, int digits_only) {
    Py_ssize_t n;
    const char *a = PyUnicode_AsUTF8AndSize(name, &n);
    if (a == NULL) return -1;
    append(out, a, n);
    append_raw(out, ": ", 2);
    if (digits_only)
        append_raw(out, value, m);
    else
        append(out, value, m);
    append_raw(out, "\r\n", 2);
    return 0;
}

/* One line ``name: text\r\n``. */
static int append_line(Sink *out, PyObject *name, PyObject *text) {
    Py_ssize_t m;
    const char *b = PyUnicode_AsUTF8AndSize(text, &m);
    return b == NULL ? -1 : emit(out, name, b, m, 0);
}

/* One line ``name: <integer>\r\n``, digits written here for a long long. */
static int append_int(Sink *out, PyObject *name, PyObject *value) {
    long long v;
    if (!small(value, &v)) {
        PyObject *text = PyObject_Str(value);
        if (text == NULL) return -1;
        int failed = append_line(out, name, text);
        Py_DECREF(text);
        return failed;
    }
    char buf[24];
    char *end = buf + sizeof buf, *p = digits(v, end);
    return emit(out, name, p, end - p, 1);
}

/* The reset's RFC 3339 text, from the cache (a new reference). */
static PyObject *reset_text(PyObject *reset) {
    PyObject *text = PyDict_GetItemWithError(Resets, reset);
    if (text != NULL) return Py_NewRef(text);
    if (PyErr_Occurred()) return NULL;
    if (PyDict_GET_SIZE(Resets) > RESETS_KEPT) PyDict_Clear(Resets);
    text = PyObject_CallOneArg(Format, reset);
    if (text == NULL) return NULL;
    if (PyDict_SetItem(Resets, reset, text) < 0) {
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

/* names[0..2] = str(limit), str(remaining), the reset's RFC 3339 text. */
static int put(Sink *out, PyObject *names, PyObject *limit, PyObject *remaining,
               PyObject *reset) {
    PyObject *text = reset_text(reset);
    if (text == NULL) return -1;
    int failed;
    if (out->dict == NULL) {
        failed = append_int(out, PyTuple_GET_ITEM(names, 0), limit) < 0 ||
                 append_int(out, PyTuple_GET_ITEM(names, 1), remaining) < 0 ||
                 append_line(out, PyTuple_GET_ITEM(names, 2), text) < 0;
        Py_DECREF(text);
        return failed ? -1 : 0;
    }
    PyObject *headers = out->dict;
    PyObject *limit_text = text_of(limit);
    PyObject *remaining_text = limit_text ? text_of(remaining) : NULL;
    failed = remaining_text == NULL ||
             PyDict_SetItem(headers, PyTuple_GET_ITEM(names, 0), limit_text) < 0 ||
             PyDict_SetItem(headers, PyTuple_GET_ITEM(names, 1), remaining_text) < 0 ||
             PyDict_SetItem(headers, PyTuple_GET_ITEM(names, 2), text) < 0;
    Py_XDECREF(limit_text);
    Py_XDECREF(remaining_text);
    Py_DECREF(text);
    return failed ? -1 : 0;
}

/* limits.rate_headers: requests-* for the request counter, tokens-* for the most
 * restrictive token counter (the first of equals). A dict, or with ``as_lines`` the
 * same headers as bytes of header lines (None when they cannot be: see Sink). */
static PyObject *headers_of(PyObject *checks_in, PyObject *values_in, int as_lines) {
    PyObject *checks = PySequence_Fast(checks_in, "checks must be a sequence");
    if (checks == NULL) return NULL;
    PyObject *values = PySequence_Fast(values_in, "values must be a sequence");
    if (values == NULL) {
        Py_DECREF(checks);
        return NULL;
    }
    char buffer[LINES_MAX];
    Sink out = {NULL, buffer, 0, 0};
    PyObject *headers = NULL;
    PyObject *tight_limit = NULL, *tight_remaining = NULL, *tight_reset = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(checks);
    if (!as_lines) {
        headers = out.dict = _PyDict_NewPresized(6);
        if (headers == NULL) goto fail;
    }
    if (PySequence_Fast_GET_SIZE(values) != n) {
        PyErr_SetString(PyExc_ValueError, "one value per check");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *check = as_check(PySequence_Fast_GET_ITEM(checks, i), 5);
        PyObject *used = PySequence_Fast_GET_ITEM(values, i);
        if (check == NULL) goto fail;
        PyObject *counter = PyTuple_GET_ITEM(check, 0);
        PyObject *limit = PyTuple_GET_ITEM(check, 4);
        PyObject *end = PyTuple_GET_ITEM(check, 2);
        int under = compare(used, limit, Py_LT);
        if (under < 0) goto fail;
        PyObject *remaining = under ? sub(limit, used) : PyLong_FromLong(0);
        if (remaining == NULL) goto fail;
        int is_requests = same_name(counter, Requests);
        if (is_requests < 0) {
            Py_DECREF(remaining);
            goto fail;
        }
        if (is_requests) {
            int failed = put(&out, PyTuple_GET_ITEM(Names, 0), limit, remaining, end);
            Py_DECREF(remaining);
            if (failed) goto fail;
            continue;
        }
        int is_tokens = PySet_Contains(Tokens, counter);
        int tighter = is_tokens;
        if (is_tokens > 0 && tight_remaining != NULL)
            tighter = compare(remaining, tight_remaining, Py_LT);
        if (tighter < 0) {
            Py_DECREF(remaining);
            goto fail;
        }
        if (tighter) {
            Py_XSETREF(tight_limit, Py_NewRef(limit));
            Py_XSETREF(tight_remaining, remaining);
            Py_XSETREF(tight_reset, Py_NewRef(end));
        } else {
            Py_DECREF(remaining);
        }
    }
    if (tight_remaining != NULL &&
        put(&out, PyTuple_GET_ITEM(Names, 1), tight_limit, tight_remaining, tight_reset) < 0)
        goto fail;
    Py_XDECREF(tight_limit);
    Py_XDECREF(tight_remaining);
    Py_XDECREF(tight_reset);
    Py_DECREF(checks);
    Py_DECREF(values);
    if (as_lines)
        return out.spoiled ? Py_NewRef(Py_None) : PyBytes_FromStringAndSize(buffer, out.len);
    return headers;
fail:
    Py_XDECREF(tight_limit);
    Py_XDECREF(tight_remaining);
    Py_XDECREF(tight_reset);
    Py_XDECREF(headers);
    Py_DECREF(checks);
    Py_DECREF(values);
    return NULL;
}

static PyObject *counters_headers(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!configured() || !arity(nargs, 2, "headers(checks, values)")) return NULL;
    return headers_of(args[0], args[1], 0);
}

static PyObject *counters_lines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!configured() || !arity(nargs, 2, "lines(checks, values)")) return NULL;
    return headers_of(args[0], args[1], 1);
}

static PyObject *counters_configure(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!arity(nargs, 9,
               "configure(Check, Decision, kinds, when_empty, requests, tokens, names, resets, fmt)"))
        return NULL;
    for (int i = 0; i < 2; i++) {
        if (!PyType_Check(args[i]) || !PyType_IsSubtype((PyTypeObject *)args[i], &PyTuple_Type)) {
            PyErr_SetString(PyExc_TypeError, "Check and Decision must be tuple types");
            return NULL;
        }
    }
    PyObject *names = args[6];
    if (!PyDict_Check(args[2]) || !PyFrozenSet_Check(args[5]) || !PyDict_Check(args[7]) ||
        !PyCallable_Check(args[8]) || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) != 2 ||
        !PyTuple_Check(PyTuple_GET_ITEM(names, 0)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(names, 0)) != 3 ||
        !PyTuple_Check(PyTuple_GET_ITEM(names, 1)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(names, 1)) != 3) {
        PyErr_SetString(PyExc_TypeError, "configure(): an argument has the wrong type");
        return NULL;
    }
    Py_XSETREF(CheckType, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(DecisionType, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(Kinds, Py_NewRef(args[2]));
    Py_XSETREF(WhenEmpty, Py_NewRef(args[3]));
    Py_XSETREF(Requests, Py_NewRef(args[4]));
    Py_XSETREF(Tokens, Py_NewRef(args[5]));
    Py_XSETREF(Names, Py_NewRef(names));
    Py_XSETREF(Resets, Py_NewRef(args[7]));
    Py_XSETREF(Format, Py_NewRef(args[8]));
    for (int k = 0; k < KnownCount; k++) Py_CLEAR(Known[k]);
    KnownCount = 0;
    PyObject *name, *kind;
    Py_ssize_t pos = 0;
    while (KnownCount < COUNTERS && PyDict_Next(Kinds, &pos, &name, &kind)) {
        long k = PyLong_AsLong(kind);
        if (k == -1 && PyErr_Occurred()) return NULL;
        Known[KnownCount] = Py_NewRef(name);
        KnownKind[KnownCount++] = k;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))counters_configure, METH_FASTCALL,
     "Set the types and names the other functions use (limits.py does, at import)."},
    {"admit", (PyCFunction)(void (*)(void))counters_admit, METH_FASTCALL,
     "admit(keys, key_id, plan, windows, amounts) -> (checks, decision, lines)"},
    {"settle", (PyCFunction)(void (*)(void))counters_settle, METH_FASTCALL,
     "settle(keys, key_id, checks, amounts): add each non-zero amount to its counter."},
    {"headers", (PyCFunction)(void (*)(void))counters_headers, METH_FASTCALL,
     "headers(checks, values) -> the anthropic-ratelimit-* headers"},
    {"lines", (PyCFunction)(void (*)(void))counters_lines, METH_FASTCALL,
     "lines(checks, values) -> the same headers as HTTP/1.1 header lines (bytes), or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "lynkr_cli.team._counters",
    "The team gateway's in-memory limit counters (the C accelerator of limits.py).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__counters(void) { return PyModule_Create(&module); }
