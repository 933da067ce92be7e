/* The codec's hot shapes in C (tether._dist._cetf).
 *
 * etf.py is the reference and the fallback: this file mirrors its hot paths,
 * and hands everything else back to it, so each rare path, each error message
 * and the decoder's budget against hostile input keep one implementation.
 * Each C function names the Python function it mirrors.  etf.py loads this
 * module only when tether runs its native core (tether._runtime._core: one
 * decision, TETHER_CORE=python means pure Python everywhere).
 *
 * Decoding (mirrors _Decoder.term and the _d_* handlers): the common tags
 * (utf8 atoms, small and 32-bit ints, new floats, tuples, nil, proper lists,
 * STRING_EXT, binaries, maps of at most _MAP_CHECKED keys, NEW_PID_EXT,
 * NEWER_REFERENCE_EXT, improper lists) are decoded here.  On anything else --
 * another tag, a malformed or truncated byte, nesting over MAX_DEPTH, a list
 * whose tail is a list, a bigger map, a key that does not hash, an atom that is not valid UTF-8 -- the
 * C gives up (a NULL with no exception set) and etf.py decodes the whole term
 * again from its start.  Every read is bounds-checked before it is made; a
 * length is checked against the bytes that remain before anything is
 * allocated (as etf.py does), and the C allocates no more than the Python does
 * for the same term, so the Python's budget holds for both.  Recursion is
 * bounded by MAX_DEPTH.
 *
 * Atoms are cached here, not in the codec's _atom_values dict: looking up that
 * dict takes a bytes object made from the raw atom (an allocation per atom,
 * the C decoder's largest cost), while this cache is keyed on the raw bytes in
 * place.  An atom's value does not depend on the codec, so one bounded,
 * direct-mapped cache (ATOM_CACHE slots; a new atom replaces the one in its
 * slot) serves every codec.  Pids go through the codec's own cache (_pids), as
 * in _d_pid: a pid's value depends on the codec's node name and creation, and
 * rename() clears that cache.
 *
 * Encoding (mirrors Codec.put, _put_items and the _e_* encoders): exact types
 * only (Atom, bool, None, int, float, str, bytes, bytearray, tuple, list,
 * dict, ImproperList, Pid, Ref), written into one buffer; a value of any other
 * type (a subclass, FrozenList, BitBinary, Port, an int beyond 64 bits, a float that is not finite, a str with a lone surrogate,
 * ...) is encoded by the Python put (etf._put) into a scratch bytearray that
 * is copied in: so the codec's default and every EncodeError stay Python's.
 * The bytes are the Python encoder's, byte for byte (the vectorised list
 * shapes of _e_list included).  Recursion is bounded by
 * Py_EnterRecursiveCall, so a term that contains itself, or one nested deeper
 * than the interpreter's stack allows, is a RecursionError, as in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum {
    VERSION = 131,
    COMPRESSED = 80,
    NEW_FLOAT_EXT = 70,
    NEW_PID_EXT = 88,
    NEWER_REFERENCE_EXT = 90,
    SMALL_INTEGER_EXT = 97,
    INTEGER_EXT = 98,
    SMALL_TUPLE_EXT = 104,
    LARGE_TUPLE_EXT = 105,
    NIL_EXT = 106,
    STRING_EXT = 107,
    LIST_EXT = 108,
    BINARY_EXT = 109,
    SMALL_BIG_EXT = 110,
    MAP_EXT = 116,
    ATOM_UTF8_EXT = 118,
    SMALL_ATOM_UTF8_EXT = 119,
};

/* ---- state set by init() ---------------------------------------------------- */

static PyTypeObject *AtomType, *PidType, *RefType, *ImproperType;
static PyObject *ref_from_words; /* etf.ref_from_words */
static PyObject *put_py;         /* etf._put: the Python encoder, for the rest */
static PyObject *MISSING;        /* etf._MISSING: "the C gave up" */
static int max_depth = -1, map_checked;
static Py_ssize_t Pid_id, Pid_serial, Pid_node, Pid_creation, Ref_n, Ref_node, Ref_creation,
    Improper_items, Improper_tail;
static PyObject *s_atom_bytes, *s_atom_bytes_meth, *s_node_bytes, *s_creation, *s_node,
    *s_pids, *s_str_binaries, *s_str, *s_true, *s_false, *s_nil, *s_bit_length, *s_to_bytes,
    *s_little;

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

/* ---- the atom cache --------------------------------------------------------- */

#define ATOM_CACHE 4096 /* a power of two */

typedef struct {
    PyObject *key;   /* bytes: the atom's raw UTF-8 */
    PyObject *value; /* Atom, or True / False / None */
} AtomSlot;

static AtomSlot atom_cache[ATOM_CACHE];

static inline size_t
raw_hash(const unsigned char *s, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 29));
}

/* Whether s[0:n] is well-formed UTF-8, as CPython's strict decoder judges it
 * (no overlong forms, no surrogates, nothing over U+10FFFF). */
static int
utf8_valid(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) {
                return 0;
            }
            i += 2;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n) {
                return 0;
            }
            unsigned char c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 || (c == 0xE0 && c1 < 0xA0) ||
                (c == 0xED && c1 > 0x9F)) {
                return 0;
            }
            i += 3;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n) {
                return 0;
            }
            unsigned char c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80 ||
                (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
                return 0;
            }
            i += 4;
        }
        else {
            return 0;
        }
    }
    return 1;
}

/* Mirrors _d_atom for a UTF-8 atom's raw bytes: True / False / None for
 * true / false / nil, else an Atom.  A new reference; NULL with no exception
 * to give up (not UTF-8, over 255 characters). */
static PyObject *
atom_value(const unsigned char *raw, Py_ssize_t n)
{
    size_t i = raw_hash(raw, n) & (ATOM_CACHE - 1);
    PyObject *key = atom_cache[i].key;
    if (key != NULL && PyBytes_GET_SIZE(key) == n && memcmp(PyBytes_AS_STRING(key), raw, n) == 0) {
        return Py_NewRef(atom_cache[i].value);
    }
    if (!utf8_valid(raw, n)) {
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)raw, n, NULL);
    if (text == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear(); /* the validator and CPython disagree: Python decides */
        }
        return NULL;
    }
    PyObject *value;
    if (PyUnicode_GET_LENGTH(text) > 255) {
        Py_DECREF(text);
        return NULL;
    }
    if (PyUnicode_CompareWithASCIIString(text, "true") == 0) {
        value = Py_NewRef(Py_True);
    }
    else if (PyUnicode_CompareWithASCIIString(text, "false") == 0) {
        value = Py_NewRef(Py_False);
    }
    else if (PyUnicode_CompareWithASCIIString(text, "nil") == 0) {
        value = Py_NewRef(Py_None);
    }
    else {
        value = PyObject_CallOneArg((PyObject *)AtomType, text);
    }
    Py_DECREF(text);
    if (value == NULL) {
        return NULL;
    }
    key = PyBytes_FromStringAndSize((const char *)raw, n);
    if (key == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    /* The slot is read again: the calls above may have run other code. */
    PyObject *old_key = atom_cache[i].key, *old_value = atom_cache[i].value;
    atom_cache[i].key = key;
    atom_cache[i].value = Py_NewRef(value);
    Py_XDECREF(old_key);
    Py_XDECREF(old_value);
    return value;
}

/* ---- decoding ----------------------------------------------------------------- */

typedef struct {
    const unsigned char *buf;
    Py_ssize_t size, pos;
    int depth;
    int str_binaries;
    PyObject *codec;
    PyObject *pids;     /* codec._pids, looked up on the first pid */
    PyObject *local;    /* codec.node, looked up on the first pid or ref */
    PyObject *creation; /* codec.creation, likewise */
} Dec;

static PyObject *term(Dec *d);

#define NEED(d, n) ((n) <= (d)->size - (d)->pos)

static inline uint32_t
be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint16_t
be16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static int
dec_codec_attrs(Dec *d)
{
    if (d->local == NULL) {
        d->local = PyObject_GetAttr(d->codec, s_node);
        if (d->local == NULL) {
            return -1;
        }
        d->creation = PyObject_GetAttr(d->codec, s_creation);
        if (d->creation == NULL) {
            return -1;
        }
    }
    return 0;
}

/* Mirrors node_atom + node_of for a SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT node
 * name: sets *where to None (this node) or the name's Atom.  Returns 1 when
 * done, 0 to give up, -1 on an error. */
static int
node_of(Dec *d, PyObject **where)
{
    Py_ssize_t n;
    if (!NEED(d, 2)) {
        return 0;
    }
    unsigned char tag = d->buf[d->pos];
    if (tag == SMALL_ATOM_UTF8_EXT) {
        n = d->buf[d->pos + 1];
        d->pos += 2;
    }
    else if (tag == ATOM_UTF8_EXT && NEED(d, 3)) {
        n = be16(d->buf + d->pos + 1);
        d->pos += 3;
    }
    else {
        return 0;
    }
    if (!NEED(d, n)) {
        return 0;
    }
    PyObject *atom = atom_value(d->buf + d->pos, n);
    if (atom == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    d->pos += n;
    if (Py_TYPE(atom) != AtomType || dec_codec_attrs(d) < 0) {
        /* true / false / nil as a node name: Python's node_of makes an Atom */
        Py_DECREF(atom);
        return PyErr_Occurred() ? -1 : 0;
    }
    int local = PyObject_RichCompareBool(atom, d->local, Py_EQ);
    if (local < 0) {
        Py_DECREF(atom);
        return -1;
    }
    if (local) {
        Py_DECREF(atom);
        *where = Py_NewRef(Py_None);
    }
    else {
        *where = atom;
    }
    return 1;
}

/* Mirrors _d_pid for NEW_PID_EXT (d->pos is after the tag). */
static PyObject *
d_pid(Dec *d)
{
    Py_ssize_t start = d->pos;
    if (!NEED(d, 2) || d->buf[start] != SMALL_ATOM_UTF8_EXT) {
        return NULL;
    }
    Py_ssize_t len = 2 + d->buf[start + 1] + 12;
    if (!NEED(d, len)) {
        return NULL;
    }
    if (d->pids == NULL) {
        d->pids = PyObject_GetAttr(d->codec, s_pids);
        if (d->pids == NULL) {
            return NULL;
        }
        if (!PyDict_CheckExact(d->pids)) {
            Py_CLEAR(d->pids);
            return NULL;
        }
    }
    PyObject *key = PyBytes_FromStringAndSize((const char *)d->buf + start, len);
    if (key == NULL) {
        return NULL;
    }
    PyObject *hit = PyDict_GetItemWithError(d->pids, key);
    if (hit != NULL) {
        Py_DECREF(key);
        d->pos = start + len;
        return Py_NewRef(hit);
    }
    PyObject *where = NULL, *pid = NULL, *cr = NULL;
    if (PyErr_Occurred()) {
        goto done;
    }
    int r = node_of(d, &where);
    if (r <= 0) {
        goto done;
    }
    const unsigned char *p = d->buf + d->pos; /* 12 bytes: checked with len above */
    uint32_t creation = be32(p + 8);
    d->pos += 12;
    cr = PyLong_FromUnsignedLong(creation);
    if (cr == NULL) {
        goto done;
    }
    if (where == Py_None) {
        int same = PyObject_RichCompareBool(cr, d->creation, Py_EQ);
        if (same < 0) {
            goto done;
        }
        if (same) { /* this incarnation's own pids are keyed without a creation */
            Py_SETREF(cr, PyLong_FromLong(0));
            if (cr == NULL) {
                goto done;
            }
        }
    }
    PyObject *id = PyLong_FromUnsignedLong(be32(p)), *serial;
    if (id == NULL) {
        goto done;
    }
    serial = PyLong_FromUnsignedLong(be32(p + 4));
    if (serial == NULL) {
        Py_DECREF(id);
        goto done;
    }
    PyObject *args[4] = {id, serial, where, cr};
    pid = PyObject_Vectorcall((PyObject *)PidType, args, 4, NULL);
    Py_DECREF(id);
    Py_DECREF(serial);
    if (pid != NULL && PyDict_GET_SIZE(d->pids) < 4096 && PyDict_SetItem(d->pids, key, pid) < 0) {
        Py_CLEAR(pid);
    }
done:
    Py_DECREF(key);
    Py_XDECREF(where);
    Py_XDECREF(cr);
    return pid;
}

/* Mirrors _d_ref for NEWER_REFERENCE_EXT (d->pos is after the tag); the
 * words become a Ref through etf.ref_from_words itself. */
static PyObject *
d_ref(Dec *d)
{
    if (!NEED(d, 2)) {
        return NULL;
    }
    Py_ssize_t n = be16(d->buf + d->pos);
    d->pos += 2;
    if (n < 1 || n > 5) {
        return NULL;
    }
    PyObject *where = NULL;
    int r = node_of(d, &where);
    if (r <= 0) {
        return NULL;
    }
    if (!NEED(d, 4 + 4 * n)) {
        Py_DECREF(where);
        return NULL;
    }
    const unsigned char *p = d->buf + d->pos;
    d->pos += 4 + 4 * n;
    PyObject *words = PyTuple_New(n), *creation = NULL, *ref = NULL;
    if (words == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyLong_FromUnsignedLong(be32(p + 4 + 4 * i));
        if (w == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(words, i, w);
    }
    creation = PyLong_FromUnsignedLong(be32(p));
    if (creation == NULL) {
        goto done;
    }
    PyObject *args[3] = {where, creation, words};
    ref = PyObject_Vectorcall(ref_from_words, args, 3, NULL);
done:
    Py_DECREF(where);
    Py_XDECREF(words);
    Py_XDECREF(creation);
    return ref;
}

/* Mirrors _d_binary. */
static PyObject *
d_binary(Dec *d)
{
    if (!NEED(d, 4)) {
        return NULL;
    }
    Py_ssize_t n = be32(d->buf + d->pos);
    if (!NEED(d, 4 + n)) {
        return NULL;
    }
    const char *raw = (const char *)d->buf + d->pos + 4;
    d->pos += 4 + n;
    if (d->str_binaries && utf8_valid((const unsigned char *)raw, n)) {
        PyObject *s = PyUnicode_DecodeUTF8(raw, n, NULL);
        if (s != NULL || !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            return s;
        }
        PyErr_Clear(); /* not UTF-8 after all: bytes, as in Python */
    }
    return PyBytes_FromStringAndSize(raw, n);
}

/* Mirrors _d_tuple (d->pos is after the arity). */
static PyObject *
d_tuple(Dec *d, Py_ssize_t n)
{
    if (!NEED(d, n) || ++d->depth > max_depth) { /* every element takes a byte */
        return NULL;
    }
    PyObject *t = PyTuple_New(n);
    if (t == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = term(d);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    d->depth--;
    return t;
}

/* Mirrors _d_list: a proper list (a NIL_EXT tail), or an ImproperList whose
 * tail is neither a list nor an ImproperList (OTP 24+ callers tag each
 * $gen_call with [alias | Ref]); any other tail is Python's (it flattens). */
static PyObject *
d_list(Dec *d)
{
    if (!NEED(d, 4)) {
        return NULL;
    }
    Py_ssize_t n = be32(d->buf + d->pos);
    d->pos += 4;
    if (!NEED(d, n + 1) || ++d->depth > max_depth) {
        return NULL;
    }
    PyObject *l = PyList_New(n);
    if (l == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = term(d);
        if (v == NULL) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, v);
    }
    if (NEED(d, 1) && d->buf[d->pos] == NIL_EXT) {
        d->pos++;
        d->depth--;
        return l;
    }
    PyObject *tail = n == 0 ? NULL : term(d);
    if (tail == NULL || PyList_Check(tail) || PyObject_TypeCheck(tail, ImproperType)) {
        Py_DECREF(l);
        Py_XDECREF(tail);
        return NULL;
    }
    PyObject *args[2] = {l, tail};
    PyObject *r = PyObject_Vectorcall((PyObject *)ImproperType, args, 2, NULL);
    Py_DECREF(l);
    Py_DECREF(tail);
    d->depth--;
    return r;
}

/* Mirrors _d_map for at most _MAP_CHECKED keys, all hashable as decoded. */
static PyObject *
d_map(Dec *d)
{
    if (!NEED(d, 4)) {
        return NULL;
    }
    Py_ssize_t n = be32(d->buf + d->pos);
    d->pos += 4;
    if (n > map_checked || !NEED(d, 2 * n) || ++d->depth > max_depth) {
        return NULL;
    }
    PyObject *m = PyDict_New();
    if (m == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = term(d);
        if (k == NULL) {
            goto fail;
        }
        PyObject *v = term(d);
        if (v == NULL) {
            Py_DECREF(k);
            goto fail;
        }
        /* A list or map key is frozen by Python (freeze); a key that does not
         * hash is Python's to judge. */
        int r = -1;
        if (PyList_Check(k) || PyDict_Check(k)) {
            r = -1;
        }
        else if (PyObject_Hash(k) == -1) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
            }
        }
        else {
            r = PyDict_SetItem(m, k, v);
        }
        Py_DECREF(k);
        Py_DECREF(v);
        if (r < 0) {
            goto fail;
        }
    }
    d->depth--;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}

/* Mirrors _Decoder.term: one term at d->pos; a new reference, or NULL (an
 * exception set: an error; none set: give up, Python decodes the term). */
static PyObject *
term(Dec *d)
{
    Py_ssize_t pos = d->pos;
    if (pos >= d->size) {
        return NULL;
    }
    const unsigned char *p = d->buf + pos;
    Py_ssize_t left = d->size - pos - 1; /* bytes after the tag */
    switch (p[0]) {
    case SMALL_ATOM_UTF8_EXT:
    case ATOM_UTF8_EXT: {
        Py_ssize_t n, head = p[0] == SMALL_ATOM_UTF8_EXT ? 1 : 2;
        if (left < head) {
            return NULL;
        }
        n = head == 1 ? p[1] : be16(p + 1);
        if (left - head < n) {
            return NULL;
        }
        PyObject *v = atom_value(p + 1 + head, n);
        if (v != NULL) {
            d->pos = pos + 1 + head + n;
        }
        return v;
    }
    case SMALL_INTEGER_EXT:
        if (left < 1) {
            return NULL;
        }
        d->pos = pos + 2;
        return PyLong_FromLong(p[1]);
    case INTEGER_EXT:
        if (left < 4) {
            return NULL;
        }
        d->pos = pos + 5;
        return PyLong_FromLong((int32_t)be32(p + 1));
    case NEW_FLOAT_EXT: {
        if (left < 8) {
            return NULL;
        }
        double x = PyFloat_Unpack8((const char *)p + 1, 0);
        if (x == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        d->pos = pos + 9;
        return PyFloat_FromDouble(x);
    }
    case SMALL_TUPLE_EXT:
        if (left < 1) {
            return NULL;
        }
        d->pos = pos + 2;
        return d_tuple(d, p[1]);
    case LARGE_TUPLE_EXT:
        if (left < 4) {
            return NULL;
        }
        d->pos = pos + 5;
        return d_tuple(d, be32(p + 1));
    case NIL_EXT:
        d->pos = pos + 1;
        return PyList_New(0);
    case STRING_EXT: {
        if (left < 2) {
            return NULL;
        }
        Py_ssize_t n = be16(p + 1);
        if (left - 2 < n) {
            return NULL;
        }
        PyObject *l = PyList_New(n);
        if (l == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = PyLong_FromLong(p[3 + i]);
            if (v == NULL) {
                Py_DECREF(l);
                return NULL;
            }
            PyList_SET_ITEM(l, i, v);
        }
        d->pos = pos + 3 + n;
        return l;
    }
    case LIST_EXT:
        d->pos = pos + 1;
        return d_list(d);
    case BINARY_EXT:
        d->pos = pos + 1;
        return d_binary(d);
    case MAP_EXT:
        d->pos = pos + 1;
        return d_map(d);
    case NEW_PID_EXT:
        d->pos = pos + 1;
        return d_pid(d);
    case NEWER_REFERENCE_EXT:
        d->pos = pos + 1;
        return d_ref(d);
    default:
        return NULL;
    }
}

/* One whole decode from buf[pos] (the version byte); sets *end.  NULL with no
 * exception set: give up. */
static PyObject *
decode_at(PyObject *codec, const unsigned char *buf, Py_ssize_t size, Py_ssize_t pos,
          int str_binaries, Py_ssize_t *end)
{
    if (pos < 0 || pos + 1 >= size || buf[pos] != VERSION || buf[pos + 1] == COMPRESSED) {
        return NULL;
    }
    Dec d = {buf, size, pos + 1, 0, str_binaries, codec, NULL, NULL, NULL};
    PyObject *v = term(&d);
    Py_XDECREF(d.pids);
    Py_XDECREF(d.local);
    Py_XDECREF(d.creation);
    *end = d.pos;
    return v;
}

/* binaries=None -> codec.str_binaries, else binaries == "str" (Codec.decode_from). */
static int
str_mode(PyObject *codec, PyObject *binaries)
{
    if (binaries == Py_None) {
        PyObject *v = PyObject_GetAttr(codec, s_str_binaries);
        if (v == NULL) {
            return -1;
        }
        int r = PyObject_IsTrue(v);
        Py_DECREF(v);
        return r;
    }
    return PyObject_RichCompareBool(binaries, s_str, Py_EQ);
}

static int
get_buffer(PyObject *data, Py_buffer *view)
{
    if (PyObject_GetBuffer(data, view, PyBUF_SIMPLE) < 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Clear(); /* not a contiguous buffer: Python's bytes(data) decides */
        }
        return -1;
    }
    return 0;
}

static PyObject *
gave_up(void)
{
    return PyErr_Occurred() ? NULL : Py_NewRef(MISSING);
}

/* decode(codec, data, binaries): Codec.decode's whole term, or _MISSING. */
static PyObject *
cetf_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "decode(codec, data, binaries) takes 3 arguments");
        return NULL;
    }
    int str_b = str_mode(args[0], args[2]);
    if (str_b < 0) {
        return NULL;
    }
    Py_buffer view;
    if (get_buffer(args[1], &view) < 0) {
        return gave_up();
    }
    Py_ssize_t end = 0;
    PyObject *v = decode_at(args[0], view.buf, view.len, 0, str_b, &end);
    if (v != NULL && end != view.len) {
        Py_CLEAR(v); /* bytes after the term: Python's error */
    }
    PyBuffer_Release(&view);
    return v != NULL ? v : gave_up();
}

/* decode_from(codec, data, pos, binaries): Codec.decode_from's (term, end) for
 * a term that is not compressed, or _MISSING. */
static PyObject *
cetf_decode_from(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "decode_from(codec, data, pos, binaries) takes 4 arguments");
        return NULL;
    }
    if (!PyLong_CheckExact(args[2])) {
        return Py_NewRef(MISSING);
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[2]);
    if (pos == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return Py_NewRef(MISSING);
    }
    int str_b = str_mode(args[0], args[3]);
    if (str_b < 0) {
        return NULL;
    }
    Py_buffer view;
    if (get_buffer(args[1], &view) < 0) {
        return gave_up();
    }
    Py_ssize_t end = 0;
    PyObject *v = decode_at(args[0], view.buf, view.len, pos, str_b, &end);
    PyBuffer_Release(&view);
    if (v == NULL) {
        return gave_up();
    }
    PyObject *e = PyLong_FromSsize_t(end);
    if (e == NULL) {
        Py_DECREF(v);
        return NULL;
    }
    PyObject *r = PyTuple_Pack(2, v, e);
    Py_DECREF(v);
    Py_DECREF(e);
    return r;
}

/* ---- encoding ----------------------------------------------------------------- */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
    PyObject *codec;
    PyObject *atom_bytes; /* codec._atom_bytes, looked up on the first atom */
    char stack[512];
} Enc;

static int put(Enc *e, PyObject *v);

static int
grow(Enc *e, Py_ssize_t n)
{
    if (n > PY_SSIZE_T_MAX / 2 - e->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t cap = e->cap * 2;
    if (cap < e->len + n) {
        cap = e->len + n;
    }
    char *buf;
    if (e->buf == e->stack) {
        buf = PyMem_Malloc(cap);
        if (buf != NULL) {
            memcpy(buf, e->stack, e->len);
        }
    }
    else {
        buf = PyMem_Realloc(e->buf, cap);
    }
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    e->buf = buf;
    e->cap = cap;
    return 0;
}

/* Room for n more bytes; a pointer to them (the caller fills them, then adds
 * n to e->len). */
static inline char *
room(Enc *e, Py_ssize_t n)
{
    if (n > e->cap - e->len && grow(e, n) < 0) {
        return NULL;
    }
    return e->buf + e->len;
}

static inline int
add(Enc *e, const char *s, Py_ssize_t n)
{
    char *p = room(e, n);
    if (p == NULL) {
        return -1;
    }
    memcpy(p, s, n);
    e->len += n;
    return 0;
}

static inline void
put32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

/* Hands value to the Python encoder (etf._put) through a scratch bytearray. */
static int
put_python(Enc *e, PyObject *v)
{
    PyObject *scratch = PyByteArray_FromStringAndSize(NULL, 0);
    if (scratch == NULL) {
        return -1;
    }
    PyObject *args[3] = {e->codec, scratch, v};
    PyObject *r = PyObject_Vectorcall(put_py, args, 3, NULL);
    int ok = -1;
    if (r != NULL) {
        Py_DECREF(r);
        ok = add(e, PyByteArray_AS_STRING(scratch), PyByteArray_GET_SIZE(scratch));
    }
    Py_DECREF(scratch);
    return ok;
}

/* Mirrors Codec.atom_bytes: the cached encoding of an atom named name. */
static int
put_atom(Enc *e, PyObject *name)
{
    if (e->atom_bytes == NULL) {
        e->atom_bytes = PyObject_GetAttr(e->codec, s_atom_bytes);
        if (e->atom_bytes == NULL) {
            return -1;
        }
        if (!PyDict_CheckExact(e->atom_bytes)) {
            PyErr_SetString(PyExc_TypeError, "Codec._atom_bytes is not a dict");
            return -1;
        }
    }
    PyObject *b = PyDict_GetItemWithError(e->atom_bytes, name);
    if (b != NULL && PyBytes_CheckExact(b)) {
        return add(e, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    b = PyObject_CallMethodOneArg(e->codec, s_atom_bytes_meth, name);
    if (b == NULL) {
        return -1;
    }
    int r = -1;
    if (PyBytes_Check(b)) {
        r = add(e, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
    }
    else {
        PyErr_SetString(PyExc_TypeError, "Codec.atom_bytes did not return bytes");
    }
    Py_DECREF(b);
    return r;
}

/* A u32 from an exact int in [0, 2**32); -1 for anything else (no exception). */
static int64_t
u32_of(PyObject *v)
{
    if (v == NULL || !PyLong_CheckExact(v)) {
        return -1;
    }
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || x < 0 || x > 0xFFFFFFFFLL) {
        return -1;
    }
    return x;
}

/* Mirrors _e_pid; 0 = done, 1 = give this pid to Python, -1 = error. */
static int
put_pid(Enc *e, PyObject *v)
{
    int64_t id = u32_of(SLOT(v, Pid_id)), serial = u32_of(SLOT(v, Pid_serial));
    int64_t creation = u32_of(SLOT(v, Pid_creation));
    PyObject *node = SLOT(v, Pid_node);
    if (id < 0 || serial < 0 || creation < 0 || node == NULL) {
        return 1;
    }
    char *p = room(e, 1);
    if (p == NULL) {
        return -1;
    }
    *p = NEW_PID_EXT;
    e->len++;
    if (node == Py_None) {
        PyObject *nb = PyObject_GetAttr(e->codec, s_node_bytes);
        if (nb == NULL) {
            return -1;
        }
        int r = PyBytes_Check(nb) ? add(e, PyBytes_AS_STRING(nb), PyBytes_GET_SIZE(nb)) : 1;
        Py_DECREF(nb);
        if (r != 0) {
            return r;
        }
        if (creation == 0) { /* v.creation or c.creation */
            PyObject *cc = PyObject_GetAttr(e->codec, s_creation);
            if (cc == NULL) {
                return -1;
            }
            creation = u32_of(cc);
            Py_DECREF(cc);
            if (creation < 0) {
                return 1;
            }
        }
    }
    else {
        if (!PyUnicode_Check(node)) {
            return 1;
        }
        if (put_atom(e, node) < 0) {
            return -1;
        }
    }
    if ((p = room(e, 12)) == NULL) {
        return -1;
    }
    put32(p, (uint32_t)id);
    put32(p + 4, (uint32_t)serial);
    put32(p + 8, (uint32_t)creation);
    e->len += 12;
    return 0;
}

/* Mirrors _e_ref + ref_words for a ref of another node: its words are packed
 * in n above a marker bit (n.bit_length() - 1 bits of words). */
static int
put_remote_ref(Enc *e, PyObject *v, PyObject *n, PyObject *node)
{
    int64_t creation = u32_of(SLOT(v, Ref_creation));
    int overflow;
    long long small = PyLong_AsLongLongAndOverflow(n, &overflow);
    if (!PyUnicode_Check(node) || creation < 0 || overflow < 0 || (!overflow && small <= 0)) {
        return 1; /* a negative or zero n, a node that is not a str: Python */
    }
    PyObject *bits = PyObject_CallMethodNoArgs(n, s_bit_length);
    if (bits == NULL) {
        return -1;
    }
    long nbits = PyLong_AsLong(bits);
    Py_DECREF(bits);
    if (nbits == -1 && PyErr_Occurred()) {
        return -1;
    }
    long count = (nbits - 1) / 32;
    if (count > 0xFFFF || count > 64) {
        return 1;
    }
    PyObject *size = PyLong_FromLong((nbits + 7) / 8);
    if (size == NULL) {
        return -1;
    }
    PyObject *raw = PyObject_CallMethodObjArgs(n, s_to_bytes, size, s_little, NULL);
    Py_DECREF(size);
    if (raw == NULL) {
        return -1;
    }
    if (!PyBytes_Check(raw) || PyBytes_GET_SIZE(raw) < 4 * count) {
        Py_DECREF(raw);
        return 1;
    }
    const unsigned char *w = (const unsigned char *)PyBytes_AS_STRING(raw);
    char *p = room(e, 3);
    int r = -1;
    if (p != NULL) {
        p[0] = NEWER_REFERENCE_EXT;
        p[1] = (char)(count >> 8);
        p[2] = (char)count;
        e->len += 3;
        r = put_atom(e, node);
    }
    if (r == 0 && (p = room(e, 4 + 4 * count)) == NULL) {
        r = -1;
    }
    if (r == 0) {
        put32(p, (uint32_t)creation);
        for (long i = 0; i < count; i++) { /* word i: bytes 4i..4i+3, little-endian */
            const unsigned char *b = w + 4 * i;
            put32(p + 4 + 4 * i, (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                                     ((uint32_t)b[3] << 24));
        }
        e->len += 4 + 4 * count;
    }
    Py_DECREF(raw);
    return r;
}

/* Mirrors _e_ref: a ref of this node whose counter fits 64 bits, or one of
 * another node; 0 = done, 1 = give it to Python, -1 = error. */
static int
put_ref(Enc *e, PyObject *v)
{
    PyObject *n = SLOT(v, Ref_n), *node = SLOT(v, Ref_node);
    if (node == NULL || n == NULL || !PyLong_CheckExact(n)) {
        return 1;
    }
    if (node != Py_None) {
        return put_remote_ref(e, v, n, node);
    }
    unsigned long long x = PyLong_AsUnsignedLongLong(n);
    if (x == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear();
        return 1;
    }
    PyObject *nb = PyObject_GetAttr(e->codec, s_node_bytes);
    if (nb == NULL) {
        return -1;
    }
    PyObject *cc = PyObject_GetAttr(e->codec, s_creation);
    if (cc == NULL) {
        Py_DECREF(nb);
        return -1;
    }
    int64_t creation = u32_of(cc);
    Py_DECREF(cc);
    if (creation < 0 || !PyBytes_Check(nb)) {
        Py_DECREF(nb);
        return 1;
    }
    char *p = room(e, 3);
    int r = -1;
    if (p != NULL) {
        p[0] = NEWER_REFERENCE_EXT;
        p[1] = 0;
        p[2] = 3; /* ref_words: three words */
        e->len += 3;
        r = add(e, PyBytes_AS_STRING(nb), PyBytes_GET_SIZE(nb));
    }
    Py_DECREF(nb);
    if (r < 0 || (p = room(e, 16)) == NULL) {
        return -1;
    }
    put32(p, (uint32_t)creation);
    put32(p + 4, (uint32_t)(x & 0x3FFFF));
    put32(p + 8, (uint32_t)((x >> 18) & 0xFFFFFFFF));
    put32(p + 12, (uint32_t)((x >> 50) & 0xFFFFFFFF));
    e->len += 16;
    return 0;
}

/* Mirrors _e_int; 0 = done, 1 = give it to Python (over 64 bits). */
static int
put_int(Enc *e, PyObject *v)
{
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) {
        return 1;
    }
    if (x == -1 && PyErr_Occurred()) {
        return -1;
    }
    char *p = room(e, 11);
    if (p == NULL) {
        return -1;
    }
    if (x >= 0 && x < 256) {
        p[0] = SMALL_INTEGER_EXT;
        p[1] = (char)x;
        e->len += 2;
    }
    else if (x >= -(1LL << 31) && x < (1LL << 31)) {
        p[0] = INTEGER_EXT;
        put32(p + 1, (uint32_t)(int32_t)x);
        e->len += 5;
    }
    else {
        unsigned long long mag = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        int n = 0;
        p[0] = SMALL_BIG_EXT;
        p[2] = x < 0;
        while (mag) {
            p[3 + n++] = (char)(mag & 0xFF);
            mag >>= 8;
        }
        p[1] = (char)n;
        e->len += 3 + n;
    }
    return 0;
}

/* Mirrors _e_list, vectorised shapes included: a list of ints only (exact
 * int) becomes STRING_EXT when all are 0..255 and there are fewer than 65536,
 * else LIST_EXT of INTEGER_EXT (small ones too) when all fit 32 bits. */
static int
put_list(Enc *e, PyObject *v)
{
    Py_ssize_t n = PyList_GET_SIZE(v);
    char *p;
    if (n == 0) {
        if ((p = room(e, 1)) == NULL) {
            return -1;
        }
        *p = NIL_EXT;
        e->len++;
        return 0;
    }
    if (PyLong_CheckExact(PyList_GET_ITEM(v, 0)) && PyLong_CheckExact(PyList_GET_ITEM(v, n - 1))) {
        int all_small = n < 65536, all_i32 = 1;
        Py_ssize_t i;
        for (i = 0; i < n; i++) {
            PyObject *x = PyList_GET_ITEM(v, i);
            if (!PyLong_CheckExact(x)) {
                break;
            }
            int overflow;
            long long y = PyLong_AsLongLongAndOverflow(x, &overflow);
            if (overflow || y < -(1LL << 31) || y >= (1LL << 31)) {
                all_small = all_i32 = 0;
            }
            else if (y < 0 || y > 255) {
                all_small = 0;
            }
        }
        if (i == n && (all_small || all_i32)) {
            /* Only ints, read above without calling out: the list is unchanged. */
            if (all_small) {
                if ((p = room(e, 3 + n)) == NULL) {
                    return -1;
                }
                p[0] = STRING_EXT;
                p[1] = (char)(n >> 8);
                p[2] = (char)n;
                for (i = 0; i < n; i++) {
                    p[3 + i] = (char)PyLong_AsLong(PyList_GET_ITEM(v, i));
                }
                e->len += 3 + n;
                return 0;
            }
            if (n > (PY_SSIZE_T_MAX - 6) / 5 || (p = room(e, 6 + 5 * n)) == NULL) {
                return n > (PY_SSIZE_T_MAX - 6) / 5 ? put_python(e, v) : -1;
            }
            p[0] = LIST_EXT;
            put32(p + 1, (uint32_t)n);
            for (i = 0; i < n; i++) {
                p[5 + 5 * i] = INTEGER_EXT;
                put32(p + 6 + 5 * i, (uint32_t)(int32_t)PyLong_AsLong(PyList_GET_ITEM(v, i)));
            }
            p[5 + 5 * n] = NIL_EXT;
            e->len += 6 + 5 * n;
            return 0;
        }
    }
    if ((uint64_t)n > 0xFFFFFFFFULL) {
        return put_python(e, v);
    }
    if ((p = room(e, 5)) == NULL) {
        return -1;
    }
    p[0] = LIST_EXT;
    put32(p + 1, (uint32_t)n);
    e->len += 5;
    /* As Python's iteration: the items there are when each is reached. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
        PyObject *x = Py_NewRef(PyList_GET_ITEM(v, i));
        int r = put(e, x);
        Py_DECREF(x);
        if (r < 0) {
            return -1;
        }
    }
    if ((p = room(e, 1)) == NULL) {
        return -1;
    }
    *p = NIL_EXT;
    e->len++;
    return 0;
}

/* Mirrors _e_dict. */
static int
put_dict(Enc *e, PyObject *v)
{
    Py_ssize_t n = PyDict_GET_SIZE(v), pos = 0;
    if ((uint64_t)n > 0xFFFFFFFFULL) {
        return put_python(e, v);
    }
    char *p = room(e, 5);
    if (p == NULL) {
        return -1;
    }
    p[0] = MAP_EXT;
    put32(p + 1, (uint32_t)n);
    e->len += 5;
    PyObject *k, *x;
    while (PyDict_Next(v, &pos, &k, &x)) {
        Py_INCREF(k);
        Py_INCREF(x);
        int r = put(e, k);
        if (r == 0) {
            r = put(e, x);
        }
        Py_DECREF(k);
        Py_DECREF(x);
        if (r < 0) {
            return -1;
        }
        if (PyDict_GET_SIZE(v) != n) {
            PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
            return -1;
        }
    }
    return 0;
}

/* Mirrors _e_tuple. */
static int
put_tuple(Enc *e, PyObject *v)
{
    Py_ssize_t n = PyTuple_GET_SIZE(v);
    char *p = room(e, 5);
    if (p == NULL) {
        return -1;
    }
    if (n < 256) {
        p[0] = SMALL_TUPLE_EXT;
        p[1] = (char)n;
        e->len += 2;
    }
    else {
        if ((uint64_t)n > 0xFFFFFFFFULL) {
            return put_python(e, v);
        }
        p[0] = LARGE_TUPLE_EXT;
        put32(p + 1, (uint32_t)n);
        e->len += 5;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (put(e, PyTuple_GET_ITEM(v, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Mirrors _e_str / _e_bytes: BINARY_EXT of raw[0:n]. */
static int
put_binary(Enc *e, const char *raw, Py_ssize_t n)
{
    char *p = room(e, 5 + n);
    if (p == NULL) {
        return -1;
    }
    p[0] = BINARY_EXT;
    put32(p + 1, (uint32_t)n);
    memcpy(p + 5, raw, n);
    e->len += 5 + n;
    return 0;
}

/* Mirrors _e_improper for items held in a list; 1 = give it to Python. */
static int
put_improper(Enc *e, PyObject *v)
{
    PyObject *items = SLOT(v, Improper_items), *tail = SLOT(v, Improper_tail);
    if (items == NULL || tail == NULL || !PyList_CheckExact(items) ||
        (uint64_t)PyList_GET_SIZE(items) > 0xFFFFFFFFULL) {
        return 1;
    }
    char *p = room(e, 5);
    if (p == NULL) {
        return -1;
    }
    p[0] = LIST_EXT;
    put32(p + 1, (uint32_t)PyList_GET_SIZE(items));
    e->len += 5;
    Py_INCREF(items);
    Py_INCREF(tail);
    int r = 0;
    for (Py_ssize_t i = 0; r == 0 && i < PyList_GET_SIZE(items); i++) {
        PyObject *x = Py_NewRef(PyList_GET_ITEM(items, i));
        r = put(e, x);
        Py_DECREF(x);
    }
    if (r == 0) {
        r = put(e, tail);
    }
    Py_DECREF(items);
    Py_DECREF(tail);
    return r;
}

/* Mirrors Codec.put: one term; 0, or -1 with an exception set. */
static int
put(Enc *e, PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    int r;
    if (t == AtomType) {
        return put_atom(e, v);
    }
    if (t == &PyLong_Type) {
        r = put_int(e, v);
        return r == 1 ? put_python(e, v) : r;
    }
    if (t == &PyUnicode_Type) {
        if (PyUnicode_IS_ASCII(v)) {
            Py_ssize_t n = PyUnicode_GET_LENGTH(v);
            if ((uint64_t)n > 0xFFFFFFFFULL) {
                return put_python(e, v);
            }
            return put_binary(e, (const char *)PyUnicode_DATA(v), n);
        }
        PyObject *raw = PyUnicode_AsUTF8String(v);
        if (raw == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                return -1;
            }
            PyErr_Clear(); /* a lone surrogate: Python's encode raises */
            return put_python(e, v);
        }
        r = (uint64_t)PyBytes_GET_SIZE(raw) > 0xFFFFFFFFULL
                ? put_python(e, v)
                : put_binary(e, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
        Py_DECREF(raw);
        return r;
    }
    if (t == &PyTuple_Type || t == &PyList_Type || t == &PyDict_Type) {
        if (Py_EnterRecursiveCall(" while encoding a term")) {
            return -1;
        }
        r = t == &PyTuple_Type ? put_tuple(e, v) : t == &PyList_Type ? put_list(e, v) : put_dict(e, v);
        Py_LeaveRecursiveCall();
        return r;
    }
    if (t == &PyBytes_Type || t == &PyByteArray_Type) {
        Py_ssize_t n = t == &PyBytes_Type ? PyBytes_GET_SIZE(v) : PyByteArray_GET_SIZE(v);
        if ((uint64_t)n > 0xFFFFFFFFULL) {
            return put_python(e, v);
        }
        return put_binary(e, t == &PyBytes_Type ? PyBytes_AS_STRING(v) : PyByteArray_AS_STRING(v),
                          n);
    }
    if (t == &PyFloat_Type) {
        double x = PyFloat_AS_DOUBLE(v);
        if (!isfinite(x)) {
            return put_python(e, v); /* Python's EncodeError */
        }
        char *p = room(e, 9);
        if (p == NULL) {
            return -1;
        }
        p[0] = NEW_FLOAT_EXT;
        if (PyFloat_Pack8(x, p + 1, 0) < 0) {
            return -1;
        }
        e->len += 9;
        return 0;
    }
    if (t == PidType || t == RefType) {
        Py_ssize_t mark = e->len;
        r = t == PidType ? put_pid(e, v) : put_ref(e, v);
        if (r == 1) {
            e->len = mark;
            return put_python(e, v);
        }
        return r;
    }
    if (t == ImproperType) {
        if (Py_EnterRecursiveCall(" while encoding a term")) {
            return -1;
        }
        Py_ssize_t mark = e->len;
        r = put_improper(e, v);
        Py_LeaveRecursiveCall();
        if (r == 1) {
            e->len = mark;
            return put_python(e, v);
        }
        return r;
    }
    if (t == &PyBool_Type) {
        return put_atom(e, v == Py_True ? s_true : s_false);
    }
    if (v == Py_None) {
        return put_atom(e, s_nil);
    }
    return put_python(e, v);
}

static void
enc_init(Enc *e, PyObject *codec)
{
    e->buf = e->stack;
    e->len = 0;
    e->cap = sizeof(e->stack);
    e->codec = codec;
    e->atom_bytes = NULL;
}

static void
enc_free(Enc *e)
{
    if (e->buf != e->stack) {
        PyMem_Free(e->buf);
    }
    Py_XDECREF(e->atom_bytes);
}

/* encode(codec, value): mirrors Codec.encode. */
static PyObject *
cetf_encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "encode(codec, value) takes 2 arguments");
        return NULL;
    }
    Enc e;
    enc_init(&e, args[0]);
    e.stack[0] = (char)VERSION;
    e.len = 1;
    PyObject *r = put(&e, args[1]) < 0 ? NULL : PyBytes_FromStringAndSize(e.buf, e.len);
    enc_free(&e);
    return r;
}

/* put(codec, out, value): mirrors Codec.put (appends to the bytearray out). */
static PyObject *
cetf_put(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "put(codec, out, value) takes 3 arguments");
        return NULL;
    }
    PyObject *out = args[1];
    if (!PyByteArray_CheckExact(out)) {
        return PyObject_Vectorcall(put_py, args, 3, NULL);
    }
    Enc e;
    enc_init(&e, args[0]);
    PyObject *r = NULL;
    if (put(&e, args[2]) == 0) {
        Py_ssize_t old = PyByteArray_GET_SIZE(out);
        if (PyByteArray_Resize(out, old + e.len) == 0) {
            memcpy(PyByteArray_AS_STRING(out) + old, e.buf, e.len);
            r = Py_NewRef(Py_None);
        }
    }
    enc_free(&e);
    return r;
}

/* ---- set-up ------------------------------------------------------------------ */

static int
offset_of(PyTypeObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString((PyObject *)cls, name);
    if (d == NULL) {
        return -1;
    }
    int ok = Py_IS_TYPE(d, &PyMemberDescr_Type) &&
             ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX;
    if (ok) {
        *out = ((PyMemberDescrObject *)d)->d_member->offset;
    }
    Py_DECREF(d);
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "tether codec: %R.%s is not a __slots__ slot", cls, name);
        return -1;
    }
    return 0;
}

/* init(Atom, Pid, Ref, ImproperList, ref_from_words, put, missing, max_depth,
 *      map_checked). */
static PyObject *
cetf_init(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "init takes 9 arguments");
        return NULL;
    }
    for (int i = 0; i < 4; i++) {
        if (!PyType_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError,
                            "init: Atom, Pid, Ref and ImproperList must be classes");
            return NULL;
        }
    }
    long depth = PyLong_AsLong(args[7]), checked = PyLong_AsLong(args[8]);
    if ((depth == -1 || checked == -1) && PyErr_Occurred()) {
        return NULL;
    }
    if (depth < 0 || depth > 10000 || checked < 0 || checked > 1 << 20) {
        PyErr_SetString(PyExc_ValueError, "init: max_depth or map_checked out of range");
        return NULL;
    }
    PyTypeObject *pid = (PyTypeObject *)args[1], *ref = (PyTypeObject *)args[2];
    PyTypeObject *improper = (PyTypeObject *)args[3];
    if (offset_of(pid, "id", &Pid_id) < 0 || offset_of(pid, "serial", &Pid_serial) < 0 ||
        offset_of(pid, "node", &Pid_node) < 0 || offset_of(pid, "creation", &Pid_creation) < 0 ||
        offset_of(ref, "n", &Ref_n) < 0 || offset_of(ref, "node", &Ref_node) < 0 ||
        offset_of(ref, "creation", &Ref_creation) < 0 ||
        offset_of(improper, "items", &Improper_items) < 0 ||
        offset_of(improper, "tail", &Improper_tail) < 0) {
        return NULL;
    }
    Py_XSETREF(AtomType, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(PidType, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(RefType, (PyTypeObject *)Py_NewRef(args[2]));
    Py_XSETREF(ImproperType, (PyTypeObject *)Py_NewRef(args[3]));
    Py_XSETREF(ref_from_words, Py_NewRef(args[4]));
    Py_XSETREF(put_py, Py_NewRef(args[5]));
    Py_XSETREF(MISSING, Py_NewRef(args[6]));
    max_depth = (int)depth;
    map_checked = (int)checked;
    Py_RETURN_NONE;
}

static PyMethodDef cetf_methods[] = {
    {"init", (PyCFunction)(void (*)(void))cetf_init, METH_FASTCALL,
     "init(Atom, Pid, Ref, ImproperList, ref_from_words, put, missing, max_depth, "
     "map_checked): bind the codec to etf.py's classes and limits."},
    {"decode", (PyCFunction)(void (*)(void))cetf_decode, METH_FASTCALL,
     "decode(codec, data, binaries): Codec.decode's term, or etf._MISSING to decode in Python."},
    {"decode_from", (PyCFunction)(void (*)(void))cetf_decode_from, METH_FASTCALL,
     "decode_from(codec, data, pos, binaries): Codec.decode_from's (term, end), or "
     "etf._MISSING to decode in Python."},
    {"encode", (PyCFunction)(void (*)(void))cetf_encode, METH_FASTCALL,
     "encode(codec, value): mirrors Codec.encode."},
    {"put", (PyCFunction)(void (*)(void))cetf_put, METH_FASTCALL,
     "put(codec, out, value): mirrors Codec.put."},
    {NULL},
};

static struct PyModuleDef cetf_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tether._dist._cetf",
    .m_doc = "The External Term Format codec's hot shapes in C (see _cetf.c and etf.py).",
    .m_size = -1,
    .m_methods = cetf_methods,
};

#define INTERN(var, text)                                                                 \
    if ((var = PyUnicode_InternFromString(text)) == NULL) {                               \
        return NULL;                                                                      \
    }

PyMODINIT_FUNC
PyInit__cetf(void)
{
    INTERN(s_atom_bytes, "_atom_bytes");
    INTERN(s_atom_bytes_meth, "atom_bytes");
    INTERN(s_node_bytes, "_node_bytes");
    INTERN(s_creation, "creation");
    INTERN(s_node, "node");
    INTERN(s_pids, "_pids");
    INTERN(s_str_binaries, "str_binaries");
    INTERN(s_str, "str");
    INTERN(s_true, "true");
    INTERN(s_false, "false");
    INTERN(s_nil, "nil");
    INTERN(s_bit_length, "bit_length");
    INTERN(s_to_bytes, "to_bytes");
    INTERN(s_little, "little");
    return PyModule_Create(&cetf_module);
}
