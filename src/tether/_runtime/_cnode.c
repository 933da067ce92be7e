/* The native core: the scheduler's hot paths in C (tether._runtime._cnode).
 *
 * The Python core (_node.py, _api.py, _mailbox.py) is the reference and holds
 * the semantics; this file mirrors its hot paths rule for rule, the way
 * CPython's _asyncio mirrors tasks.py.  Each C function names the Python
 * function it mirrors.  Everything that is not a hot path is not here: the C
 * calls the Python method that handles it (a dead process unwinding, a
 * suspended one, a coroutine that returns or raises, an asyncio future, a
 * bad yield, a receive with filters or a timeout, a send to anything but a
 * local pid), so those paths keep a single implementation.
 *
 * Process, Node and Pid stay Python classes with __slots__: a slot is a
 * PyObject * at a fixed offset in the instance, which init() reads from the
 * classes' member descriptors (and checks) once.  The C reads and writes
 * those slots directly, with the same meaning as the Python code.  The
 * mailbox is a C type here (Mailbox, mirroring _mailbox.PyMailbox), which
 * deliver and the receive awaitable call directly.
 *
 * Preemption (Node.preempt_here, in_process_code) must never land inside the
 * runtime.  The Python core is protected by its own frames; C code has none,
 * so every call the C makes into Python code that is not the runtime's
 * (asyncio's call_soon) is bracketed by runtime_depth, which
 * in_process_code reads through in_runtime().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <time.h>

/* ---- state set by init() / init_api() ------------------------------------ */

static PyObject *node_globals;  /* _node's module dict: BUDGET, SLICE, ... */
static PyObject *the_node;      /* _node.NODE, kept here by set_node() */
static PyTypeObject *ProcessType, *NodeType, *PidType;
static PyTypeObject *RefType; /* set by init_refs */
static PyObject *WAIT, *RESCAN, *TIMEOUT, *ForceStop;
static PyObject *enter_task, *leave_task, *reset_current_task; /* _node's */
/* asyncio's table of current tasks, _asyncio._current_tasks (a dict keyed by
 * loop), when _node's _enter_task and _leave_task are _asyncio's own C
 * functions (CPython 3.11-3.13): a step then does their dict operations
 * itself (task_enter, task_leave), with the loop hashed once, where the two
 * calls cost about 250 instructions a step more (vectorcall, argument
 * parsing, the loop hashed twice).  NULL: the two functions are called (a
 * pure-Python asyncio, another CPython). */
static PyObject *current_tasks;
static PyObject *ST[6];  /* RUNNABLE .. SUSPENDED, the module's own int objects */
static PyObject *deliver_py, *send_py, *receive_py;
/* _api.spawn, _api.spawn_link and _api.spawn_monitor, the Python (init_api). */
static PyObject *spawn_api_py[3];
static PyObject *float_one, *int_zero, *int_one;


/* The classes whose hash slot is slot_hash (use_slot_hash: Pid, Ref, Port,
 * TimerRef), each with its _hash slot's offset. */
#define MAX_HASHED 8
static PyTypeObject *hashed_types[MAX_HASHED];
static Py_ssize_t hashed_offsets[MAX_HASHED];
static int n_hashed;

/* Whether t is exactly one of the runtime's own identifier classes (Pid,
 * Ref, Port, TimerRef: use_slot_hash).  Their __eq__ starts with `if self is
 * other: return True` and no instance is a Record, so the C may take both
 * as known for these without calling Python. */
static inline int
is_own_id_type(PyTypeObject *t)
{
    for (int i = 0; i < n_hashed; i++) {
        if (hashed_types[i] == t) {
            return 1;
        }
    }
    return 0;
}

/* Dict operations with the key's hash computed once by the caller (the
 * mailbox index hashes a message's key once per put, take and remove, not
 * once per dict call: a Ref's hash is a slot read, a str's is cached, but a
 * tuple's is recomputed every time).  _PyDict_GetItem_KnownHash is in
 * CPython's public cpython/ headers on 3.11-3.13; the set and delete are
 * there on 3.11-3.12 and exported (PyAPI_FUNC) but declared only in the
 * internal headers on 3.13; newer versions use the plain calls. */
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
PyAPI_FUNC(int) _PyDict_SetItem_KnownHash(PyObject *mp, PyObject *key, PyObject *item,
                                          Py_hash_t hash);
PyAPI_FUNC(int) _PyDict_DelItem_KnownHash(PyObject *mp, PyObject *key, Py_hash_t hash);
#endif
#if PY_VERSION_HEX < 0x030E0000
#define DICT_GET_KH(d, k, h) _PyDict_GetItem_KnownHash((d), (k), (h))
#define DICT_SET_KH(d, k, v, h) _PyDict_SetItem_KnownHash((d), (k), (v), (h))
#define DICT_DEL_KH(d, k, h) _PyDict_DelItem_KnownHash((d), (k), (h))
#else
#define DICT_GET_KH(d, k, h) PyDict_GetItemWithError((d), (k))
#define DICT_SET_KH(d, k, v, h) PyDict_SetItem((d), (k), (v))
#define DICT_DEL_KH(d, k, h) PyDict_DelItem((d), (k))
#endif
static int runtime_depth;

enum { RUNNABLE, RUNNING, WAITING, AWAITING, DEAD, SUSPENDED };

/* Slot offsets. */
static Py_ssize_t P_state, P_resume, P_coro, P_reductions, P_received, P_matcher,
    P_timer, P_mailbox, P_suspended;
static Py_ssize_t N_current, N_runq, N_scheduled, N_loop, N_check_every, N_busy,
    N_table, N_quick_receives, N_idle_waiters, N_idle_check_scheduled, N_run_soon;
static Py_ssize_t Pid_hash;
static Py_ssize_t P_pid, P_initial_call, P_links, P_monitors, P_monitored_by; /* init_spawn */

static PyObject *s_step, *s_step_ended, *s_returned, *s_dead_yield, *s_awaits, *s_hand_over,
    *s_enqueue, *s_put, *s_pop_first, *s_append, *s_popleft, *s_call_soon,
    *s_idle_check, *s_step_failed, *s_send_alias, *s_needs_context, *s_wake_for_rescan,
    *s_cancel_receive_timer, *s_set_receive_timer, *s_take, *s_time, *s_timeout;

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

static inline void
set_slot(PyObject *o, Py_ssize_t off, PyObject *v)
{
    PyObject *old = SLOT(o, off);
    Py_INCREF(v);
    SLOT(o, off) = v;
    Py_XDECREF(old);
}

/* next(counter) for a Node counter (Node.ids, Node.deadline_seqs: each an
 * itertools.count), its tp_iternext called directly; NULL with an error. */
static PyObject *
next_count(PyObject *counter, const char *name)
{
    PyObject *v = PyIter_Check(counter) ? PyIter_Next(counter) : NULL;
    if (v == NULL && !PyErr_Occurred()) {
        PyErr_Format(PyExc_RuntimeError, "tether native core: Node.%s is no endless iterator", name);
    }
    return v;
}

/* A slot that __init__ always sets; NULL (unset) only if a record is broken. */
static inline PyObject *
get_slot(PyObject *o, Py_ssize_t off)
{
    PyObject *v = SLOT(o, off);
    if (v == NULL) {
        PyErr_Format(PyExc_AttributeError, "tether native core: %R has an unset slot", o);
    }
    return v;
}

static inline int
state_is(PyObject *s, int k)
{
    if (s == ST[k]) {
        return 1;
    }
    /* A state is one of the six objects (_node's ints, which CPython's small
     * int cache makes the only ones of their values): comparing with them is
     * a few instructions where PyLong_AsLong is some sixty. */
    for (int i = 0; i < 6; i++) {
        if (s == ST[i]) {
            return 0;
        }
    }
    return PyLong_CheckExact(s) && PyLong_AsLong(s) == k;
}

/* `x += 1.0` on a float counter (Process.reductions, Process.received). */
static int
inc_counter(PyObject *o, Py_ssize_t off)
{
    PyObject *old = get_slot(o, off), *new;
    if (old == NULL) {
        return -1;
    }
    if (PyFloat_CheckExact(old)) {
        if (Py_REFCNT(old) == 1) {
            /* the slot holds the only reference: no one can see the float
             * change, so add in place (an allocation less per message) */
            ((PyFloatObject *)old)->ob_fval += 1.0;
            return 0;
        }
        new = PyFloat_FromDouble(PyFloat_AS_DOUBLE(old) + 1.0);
    }
    else {
        new = PyNumber_Add(old, float_one);
    }
    if (new == NULL) {
        return -1;
    }
    SLOT(o, off) = new;
    Py_DECREF(old);
    return 0;
}

static double
monotonic(void)
{
    /* time.monotonic() on POSIX: the same clock. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The raised exception as one object (with its traceback), the error cleared. */
static PyObject *
take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(v, tb);
    }
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
#endif
}

static void
restore_exception(PyObject *v)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(v);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(v)), v, PyException_GetTraceback(v));
#endif
}

/* Call node.<name>(p, ex) the way Python calls it from `except BaseException
 * as ex:` (sys.exception() is ex meanwhile). */
static PyObject *
call_in_handler(PyObject *node, PyObject *name, PyObject *p, PyObject *ex)
{
    PyObject *saved = PyErr_GetHandledException();
    PyErr_SetHandledException(ex);
    PyObject *args[3] = {node, p, ex};
    PyObject *r = PyObject_VectorcallMethod(name, args, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    PyErr_SetHandledException(saved);
    Py_XDECREF(saved);
    return r;
}

static inline PyObject *
call_method1(PyObject *o, PyObject *name, PyObject *a)
{
    PyObject *args[2] = {o, a};
    return PyObject_VectorcallMethod(name, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
}

static inline PyObject *
call_method2(PyObject *o, PyObject *name, PyObject *a, PyObject *b)
{
    PyObject *args[3] = {o, a, b};
    return PyObject_VectorcallMethod(name, args, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
}

/* loop.call_soon(fn): asyncio's Python code, run as part of the runtime. */
static int
call_soon(PyObject *node, PyObject *fn_name)
{
    PyObject *loop = get_slot(node, N_loop);
    if (loop == NULL) {
        return -1;
    }
    PyObject *fn = PyObject_GetAttr(node, fn_name);
    if (fn == NULL) {
        return -1;
    }
    runtime_depth++;
    PyObject *r = call_method1(loop, s_call_soon, fn);
    runtime_depth--;
    Py_DECREF(fn);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* node.run_soon(): schedules the next scheduler turn (_node._run_soon says how). */
static int
run_soon(PyObject *node)
{
    PyObject *f = get_slot(node, N_run_soon);
    if (f == NULL) {
        return -1;
    }
    runtime_depth++;
    PyObject *r = PyObject_CallNoArgs(f);
    runtime_depth--;
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static int returned(PyObject *node, PyObject *p, PyObject *value); /* Node._returned */
/* a call's bookkeeping (the section near the end) */
static PyObject *loop_time(PyObject *loop);
static int set_receive_timer(PyObject *node, PyObject *p, PyObject *deadline);
static int cancel_receive_timer(PyObject *node, PyObject *p);
static int send_alias(PyObject *node, PyObject *ref, PyObject *msg);
static int exited(PyObject *node, PyObject *p, PyObject *ex);       /* Node._step_ended */
static PyObject *ProcessExit_t, *terminate_py;

/* ---- the run queue ------------------------------------------------------- */

/* Node.runq with the native core: the FIFO of runnable processes, a ring
 * buffer with the part of deque's interface the Python code uses (append,
 * popleft, clear, len, truth, iteration).  collections.deque has no C API:
 * each call through its method descriptors costs about 100 instructions, and
 * a scheduler turn appends and pops once a step; here each is a few.
 * Invariants: cap is 0 or a power of two; the live items are
 * items[(head + i) & (cap - 1)] for i in [0, len), each a strong reference. */
typedef struct {
    PyObject_HEAD
    PyObject **items;
    Py_ssize_t head, len, cap;
} RunQueue;

static PyTypeObject RunQueueType;

static int
rq_grow(RunQueue *q)
{
    Py_ssize_t ncap = q->cap ? q->cap * 2 : 64;
    PyObject **items = PyMem_New(PyObject *, ncap);
    if (items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < q->len; i++) {
        items[i] = q->items[(q->head + i) & (q->cap - 1)];
    }
    PyMem_Free(q->items);
    q->items = items;
    q->head = 0;
    q->cap = ncap;
    return 0;
}

static inline int
rq_push(RunQueue *q, PyObject *p)
{
    if (q->len == q->cap && rq_grow(q) < 0) {
        return -1;
    }
    q->items[(q->head + q->len) & (q->cap - 1)] = Py_NewRef(p);
    q->len++;
    return 0;
}

/* The oldest item (a new reference); the queue must not be empty. */
static inline PyObject *
rq_pop(RunQueue *q)
{
    PyObject *p = q->items[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    return p;
}

static PyObject *
rq_append(RunQueue *q, PyObject *p)
{
    if (rq_push(q, p) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
rq_popleft(RunQueue *q, PyObject *unused)
{
    if (q->len == 0) {
        PyErr_SetString(PyExc_IndexError, "pop from an empty run queue");
        return NULL;
    }
    return rq_pop(q);
}

/* Items are dropped one at a time: a drop can run code that appends. */
static int
rq_clear(RunQueue *q)
{
    while (q->len > 0) {
        PyObject *p = rq_pop(q);
        Py_DECREF(p);
    }
    return 0;
}

static PyObject *
rq_clear_method(RunQueue *q, PyObject *unused)
{
    rq_clear(q);
    Py_RETURN_NONE;
}

static Py_ssize_t
rq_length(RunQueue *q)
{
    return q->len;
}

/* Iteration walks a snapshot (a list), as Node.close's loop needs nothing
 * more and a live view could not survive an append that grows the ring. */
static PyObject *
rq_iter(RunQueue *q)
{
    PyObject *list = PyList_New(q->len);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < q->len; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(q->items[(q->head + i) & (q->cap - 1)]));
    }
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

static int
rq_traverse(RunQueue *q, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < q->len; i++) {
        Py_VISIT(q->items[(q->head + i) & (q->cap - 1)]);
    }
    return 0;
}

static void
rq_dealloc(RunQueue *q)
{
    PyObject_GC_UnTrack(q);
    rq_clear(q);
    PyMem_Free(q->items);
    Py_TYPE(q)->tp_free((PyObject *)q);
}

static PyObject *
rq_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "RunQueue() takes no arguments");
        return NULL;
    }
    RunQueue *q = (RunQueue *)type->tp_alloc(type, 0);
    if (q != NULL) {
        q->items = NULL;
        q->head = q->len = q->cap = 0;
    }
    return (PyObject *)q;
}

static PyMethodDef rq_methods[] = {
    {"append", (PyCFunction)rq_append, METH_O, "Add a process at the end."},
    {"popleft", (PyCFunction)rq_popleft, METH_NOARGS,
     "Remove and return the oldest process (IndexError if empty)."},
    {"clear", (PyCFunction)rq_clear_method, METH_NOARGS, "Remove every process."},
    {NULL},
};

static PySequenceMethods rq_as_sequence = {
    .sq_length = (lenfunc)rq_length,
};

static PyTypeObject RunQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tether._runtime._cnode.RunQueue",
    .tp_basicsize = sizeof(RunQueue),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The native core's run queue (Node.runq): a FIFO of processes.",
    .tp_new = rq_new,
    .tp_dealloc = (destructor)rq_dealloc,
    .tp_traverse = (traverseproc)rq_traverse,
    .tp_clear = (inquiry)rq_clear,
    .tp_iter = (getiterfunc)rq_iter,
    .tp_methods = rq_methods,
    .tp_as_sequence = &rq_as_sequence,
};

/* runq.append(p): 0, or -1 with an exception set. */
static int
runq_append(PyObject *runq, PyObject *p)
{
    if (Py_TYPE(runq) == &RunQueueType) {
        return rq_push((RunQueue *)runq, p);
    }
    PyObject *r = call_method1(runq, s_append, p); /* not Node's: its method */
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* ---- Node.step ------------------------------------------------------------ */

/* _enter_task(loop, p), and the loop's hash for task_leave.  Mirrors
 * _asyncio's enter_task: set current_tasks[loop] = p if no task is current;
 * if one is, the real function is called, to raise asyncio's own error. */
static int
task_enter(PyObject *loop, PyObject *p, Py_hash_t *hash)
{
    if (current_tasks != NULL) {
        Py_hash_t h = PyObject_Hash(loop);
        if (h == -1) {
            return -1;
        }
        *hash = h;
        PyObject *item = DICT_GET_KH(current_tasks, loop, h);
        if (item == NULL) {
            return PyErr_Occurred() ? -1 : DICT_SET_KH(current_tasks, loop, p, h);
        }
    }
    PyObject *targs[2] = {loop, p};
    PyObject *r = PyObject_Vectorcall(enter_task, targs, 2, NULL);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* _leave_task(loop, p) after task_enter(loop, p, &hash) succeeded.  Mirrors
 * _asyncio's leave_task: delete current_tasks[loop] if it is p; if it is not
 * (the step replaced or removed it), the real function raises asyncio's
 * error, and _node._reset_current_task leaves no task current (as Node.step
 * does), so that the next step can enter. */
static int
task_leave(PyObject *loop, PyObject *p, Py_hash_t hash)
{
    if (current_tasks != NULL) {
        PyObject *item = DICT_GET_KH(current_tasks, loop, hash);
        if (item == p) {
            return DICT_DEL_KH(current_tasks, loop, hash);
        }
        if (item == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    PyObject *targs[2] = {loop, p};
    PyObject *r = PyObject_Vectorcall(leave_task, targs, 2, NULL);
    if (r == NULL) {
        if (PyErr_ExceptionMatches(PyExc_RuntimeError)) {
            PyObject *ex = take_exception();
            PyObject *done = PyObject_CallOneArg(reset_current_task, loop);
            if (done == NULL) {
                Py_DECREF(ex); /* the reset's error replaces it */
                return -1;
            }
            Py_DECREF(done);
            restore_exception(ex);
        }
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Mirrors Node.step: run one process until it yields, returns or raises.
 * Returns 0, or -1 with an exception set (for run's per-step guard). */
static int
step(PyObject *node, PyObject *p)
{
    PyObject *r;
    if (Py_TYPE(p) != ProcessType) {
        goto python;
    }
    PyObject *state = get_slot(p, P_state);
    PyObject *coro = get_slot(p, P_coro);
    PyObject *suspended = get_slot(p, P_suspended);
    if (state == NULL || coro == NULL || suspended == NULL) {
        return -1;
    }
    /* A dead process unwinding, a suspended one, and a stand-in coroutine
     * (_ThrowOnce: a cancel() pending) or any other awaitable object: Python. */
    if (state_is(state, DEAD) || suspended != Py_None || !PyCoro_CheckExact(coro)) {
        goto python;
    }
    /* The process's step count also names this step, for the watchdog. */
    if (inc_counter(p, P_reductions) < 0) {
        return -1;
    }
    set_slot(p, P_state, ST[RUNNING]);
    set_slot(node, N_current, p);
    PyObject *value = get_slot(p, P_resume);
    if (value == NULL) {
        return -1;
    }
    SLOT(p, P_resume) = Py_NewRef(Py_None); /* steals the old reference into value */
    PyObject *loop = get_slot(node, N_loop);
    if (loop == NULL) {
        Py_DECREF(value);
        return -1;
    }
    Py_INCREF(coro);
    Py_INCREF(loop);
    PyObject *result = NULL;
    PySendResult status;
    Py_hash_t loop_hash = -1;
    if (task_enter(loop, p, &loop_hash) < 0) {
        status = PYGEN_ERROR;
    }
    else {
        status = PyIter_Send(coro, value, &result);
        /* finally: _leave_task(loop, p); its error replaces the step's. */
        PyObject *pending = status == PYGEN_ERROR ? take_exception() : NULL;
        if (task_leave(loop, p, loop_hash) < 0) {
            Py_XDECREF(pending);
            Py_CLEAR(result);
            status = PYGEN_ERROR;
        }
        else if (pending != NULL) {
            restore_exception(pending);
        }
    }
    Py_DECREF(value);
    Py_DECREF(coro);
    Py_DECREF(loop);
    set_slot(node, N_current, Py_None);
    if (status == PYGEN_ERROR) {
        if (PyErr_ExceptionMatches(ForceStop)) {
            return -1;
        }
        PyObject *ex = take_exception();
        if (Py_TYPE(ex) == (PyTypeObject *)ProcessExit_t && terminate_py != NULL) {
            /* _step_ended's exit/1 case (E-3), mirrored by exited() */
            int rc = exited(node, p, ex);
            Py_DECREF(ex);
            return rc;
        }
        r = call_in_handler(node, s_step_ended, p, ex);
        Py_DECREF(ex);
        goto done;
    }
    if (status == PYGEN_RETURN) {
        /* coro.send raised StopIteration(result) in the Python core, which
         * hands its value to Node._returned: called here without the
         * exception object. */
        int rc = returned(node, p, result);
        Py_DECREF(result);
        return rc;
    }
    state = get_slot(p, P_state);
    if (state == NULL) {
        Py_DECREF(result);
        return -1;
    }
    if (state_is(state, DEAD)) {
        r = call_method2(node, s_dead_yield, p, result);
    }
    else if (result == WAIT) {
        set_slot(p, P_state, ST[WAITING]);
        r = Py_NewRef(Py_None);
    }
    else if (result == Py_None) {
        set_slot(p, P_state, ST[RUNNABLE]);
        PyObject *runq = get_slot(node, N_runq);
        r = runq == NULL || runq_append(runq, p) < 0 ? NULL : Py_NewRef(Py_None);
    }
    else {
        r = call_method2(node, s_awaits, p, result);
    }
    Py_DECREF(result);
done:
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
python:
    r = call_method1(node, s_step, p);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* ---- Node.run ------------------------------------------------------------- */

/* A global of _node (read each turn: tests and tools change them), by its
 * interned name (a dict lookup with the str's cached hash). */
static PyObject *s_SLICE, *s_BUDGET, *s_CHECK_EVERY;

static PyObject *
node_global(PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(node_globals, name);
    if (v == NULL && !PyErr_Occurred()) {
        PyErr_Format(PyExc_RuntimeError, "tether native core: _node.%U is missing", name);
    }
    return v;
}

static int
global_long(PyObject *name, long *out)
{
    PyObject *v = node_global(name);
    if (v == NULL) {
        return -1;
    }
    *out = PyLong_AsLong(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Mirrors Node.run: one scheduler turn, BUDGET steps and SLICE seconds at most
 * (the clock read every check_every steps, adapted as in Python), each step
 * guarded so that an error ends that process only (_step_failed). */
static PyObject *
cnode_run(PyObject *module, PyObject *node)
{
    long budget, check_default, every;
    PyObject *slice_o = node_global(s_SLICE);
    if (slice_o == NULL || global_long(s_BUDGET, &budget) < 0 ||
        global_long(s_CHECK_EVERY, &check_default) < 0) {
        return NULL;
    }
    double slice = PyFloat_AsDouble(slice_o);
    if (slice == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *every_o = get_slot(node, N_check_every);
    if (every_o == NULL) {
        return NULL;
    }
    every = PyLong_AsLong(every_o);
    if (every == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *runq = get_slot(node, N_runq);
    if (runq == NULL) {
        return NULL;
    }
    Py_INCREF(runq);
    /* Node.runq is a RunQueue; anything else goes through its methods. */
    RunQueue *rq = Py_TYPE(runq) == &RunQueueType ? (RunQueue *)runq : NULL;
    PyObject *popleft = rq != NULL ? NULL : PyObject_GetAttr(runq, s_popleft);
    if (rq == NULL && popleft == NULL) {
        Py_DECREF(runq);
        return NULL;
    }
    long n = budget, check_at = n - every;
    double start = monotonic(), deadline = start + slice;
    int failed = 0, broke = 0;
    Py_ssize_t len;
    while ((len = rq != NULL ? rq->len : PyObject_Size(runq)) > 0 && n) {
        n--;
        PyObject *p = rq != NULL ? rq_pop(rq) : PyObject_CallNoArgs(popleft);
        if (p == NULL) {
            failed = 1;
            break;
        }
        if (step(node, p) < 0) {
            if (PyErr_ExceptionMatches(ForceStop)) {
                Py_DECREF(p);
                failed = 1;
                break;
            }
            PyObject *ex = take_exception();
            PyObject *r = call_in_handler(node, s_step_failed, p, ex);
            Py_DECREF(ex);
            if (r == NULL) {
                Py_DECREF(p);
                failed = 1;
                break;
            }
            Py_DECREF(r);
        }
        Py_DECREF(p);
        if (n <= check_at) {
            if (monotonic() >= deadline) {
                /* Slow steps: look at the clock after every step. */
                PyObject *one = PyLong_FromLong(1);
                set_slot(node, N_check_every, one);
                Py_DECREF(one);
                broke = 1;
                break;
            }
            check_at = n - every;
        }
    }
    if (len < 0) {
        failed = 1;
    }
    if (!failed && !broke && every != check_default && monotonic() < deadline - slice / 2) {
        PyObject *v = PyLong_FromLong(check_default);
        set_slot(node, N_check_every, v);
        Py_DECREF(v);
    }
    Py_XDECREF(popleft);
    /* finally: */
    PyObject *pending = failed ? take_exception() : NULL;
    int ok = 0;
    PyObject *busy = get_slot(node, N_busy);
    if (busy != NULL) {
        PyObject *took = PyFloat_FromDouble(monotonic() - start);
        PyObject *sum = took == NULL ? NULL : PyNumber_Add(busy, took);
        Py_XDECREF(took);
        if (sum != NULL) {
            set_slot(node, N_busy, sum);
            Py_DECREF(sum);
            ok = 1;
        }
    }
    if (ok) {
        len = PyObject_Size(runq);
        if (len < 0) {
            ok = 0;
        }
        else if (len > 0) {
            ok = run_soon(node) == 0;
        }
        else {
            set_slot(node, N_scheduled, Py_False);
            PyObject *waiters = get_slot(node, N_idle_waiters);
            PyObject *sched = get_slot(node, N_idle_check_scheduled);
            int truth = waiters == NULL || sched == NULL ? -1 : PyObject_IsTrue(waiters);
            if (truth < 0) {
                ok = 0;
            }
            else if (truth && !PyObject_IsTrue(sched)) {
                set_slot(node, N_idle_check_scheduled, Py_True);
                ok = call_soon(node, s_idle_check) == 0;
            }
        }
    }
    Py_DECREF(runq);
    if (!ok) {
        Py_XDECREF(pending); /* the finally's error replaces it */
        return NULL;
    }
    if (pending != NULL) {
        restore_exception(pending);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- the Mailbox ---------------------------------------------------------- */

/* Mirrors _mailbox.PyMailbox (the reference; its head comment has the design
 * and the invariants).  Here the queue is one array of slots instead of a
 * dict: a slot holds a message (NULL once removed: a hole) and its arrival
 * seq, so a message costs no allocation.  [start, end) is the live region:
 * slots[start] is the oldest message whenever the mailbox is not empty (a
 * removal at the front skips the holes behind it, as does one at the back),
 * and `holes` counts the NULLs strictly inside.  Seqs increase along the
 * array (S-5: array order is arrival order).  A put that finds the array full
 * squeezes the holes out when at least half of it is dead, else doubles it,
 * and a scan squeezes first when holes outnumber live messages by more than
 * 64 (PyMailbox.take's compaction): O(1) amortised a message.
 *
 * The index (built lazily, as in PyMailbox) maps a message's index key to a
 * Bucket: the positions of the messages with that key, increasing.  Positions
 * change when the array is squeezed or a message is pushed in front; the
 * index is then dropped, to be rebuilt when a receive next needs it (the
 * rebuild is O(n), like the squeeze that caused it).
 *
 * A receive's match() is Python code and may run anything, including a send
 * to this mailbox: while a take scans (`scanning`), a put only appends (never
 * squeezes, never moves a bucket's entries), and a take reads the array anew
 * after each call but looks only at the messages queued when it began; any
 * other change meanwhile (a removal, a push_front) bumps `version`, and the
 * take raises RuntimeError.  (PyMailbox raises RuntimeError on a put too:
 * its dict or deque refuses to change while it is walked.) */

#define INDEX_THRESHOLD 16 /* _mailbox.INDEX_THRESHOLD (a test checks they agree) */

typedef struct {
    PyObject *msg; /* NULL: removed */
    long long seq;
} MSlot;

typedef struct {
    PyObject_HEAD
    MSlot *slots;
    Py_ssize_t cap, start, end, live, holes;
    long long tail;    /* the seq the next put gets */
    long long head;    /* PyMailbox._head, for push_front's seq (see there) */
    PyObject *index;   /* NULL, or dict: index key -> Bucket */
    unsigned long version;
    int scanning;
    PyObject *mark_ref; /* the receive marker (PyMailbox.mark): NULL, or a ref */
    long long mark_seq; /* and the seq from which messages came after it */
} MailboxObject;

/* One index bucket: positions in a growable array, [lo, hi) in use.  Most
 * keys (a reply's ref, a call's tag) hold one message at a time: the array
 * starts as the two positions inside the bucket (no allocation), and freed
 * buckets are kept for reuse (BUCKET_FREE of them), so a key that comes and
 * goes costs no allocation. */
#define BUCKET_SMALL 2
typedef struct {
    PyObject_HEAD
    Py_ssize_t *pos;
    Py_ssize_t lo, hi, cap;
    Py_ssize_t small[BUCKET_SMALL];
} Bucket;

static PyTypeObject CMailboxType, BucketType;
static PyObject *MISSING, *DownType, *ExitType, *ANY, *RecordType; /* init_mailbox() */
static PyTypeObject *MatcherType;                                      /* init_mailbox() */
static Py_ssize_t Down_ref, Down_type, Down_pid, Down_reason, Exit_pid, Exit_reason;
static Py_ssize_t M_match, M_keys, M_needs_context; /* Matcher's slots */
static PyObject *s_ref, *s_pid, *s_keys, *s_match;

/* ---- TagMatch: the test of a tagged pattern, in C --------------------------- */

/* TagMatch(key, arity, down, exit)(m) mirrors the tests _mailbox._tag_test
 * and _mailbox.reply_matcher make in Python (the reference), for the shapes
 * every tagged receive has: true when
 *   type(m) is tuple and len(m) == arity and m[0] == key   (arity > 0), or
 *   type(m) is Down and m.ref == key                       (down), or
 *   type(m) is Exit and m.pid == key                       (exit).
 * `==` itself (bool(a == b)): no identity shortcut in general, a NaN is not
 * equal to itself; but the runtime's own Pid/Ref/Port/TimerRef and exact str
 * and int are, so for them the same object matches without a call to their
 * __eq__ (the Python reply_matcher's `m[0] is ref or ...`, whose key is always
 * a Ref).  The native core's Matchers carry one as their `match`; deliver,
 * the mailbox's take and the receive awaitable run it without a Python call.
 * key's hash is computed once, when it is made (the index's lookups). */
typedef struct {
    PyObject *key;
    Py_hash_t hash;
    Py_ssize_t arity;
    int down, exit;
} TagSpec;

typedef struct {
    PyObject_HEAD
    TagSpec spec;
} TagMatchObject;

static PyTypeObject TagMatchType;

static int
tagmatch_test(PyObject *m, void *ctx)
{
    TagSpec *t = ctx;
    PyObject *mt = (PyObject *)Py_TYPE(m), *first;
    if (mt == (PyObject *)&PyTuple_Type) {
        if (t->arity == 0 || PyTuple_GET_SIZE(m) != t->arity) {
            return 0;
        }
        first = PyTuple_GET_ITEM(m, 0);
    }
    else if ((t->down && mt == DownType) || (t->exit && mt == ExitType)) {
        first = SLOT(m, mt == DownType ? Down_ref : Exit_pid);
        if (first == NULL) { /* a record made without __init__: m.ref raises */
            PyObject *a = PyObject_GetAttr(m, mt == DownType ? s_ref : s_pid);
            Py_XDECREF(a);
            return a == NULL ? -1 : 0;
        }
    }
    else {
        return 0;
    }
    if (first == t->key && (PyUnicode_CheckExact(first) || PyLong_CheckExact(first) ||
                            is_own_id_type(Py_TYPE(first)))) {
        return 1;
    }
    PyObject *r = PyObject_RichCompare(first, t->key, Py_EQ);
    if (r == NULL) {
        return -1;
    }
    int ok = PyObject_IsTrue(r);
    Py_DECREF(r);
    return ok;
}

/* A new TagMatch, or NULL with an error (an unhashable key: TypeError). */
static PyObject *
tagmatch_make(PyObject *key, Py_ssize_t arity, int down, int exit)
{
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1) {
        return NULL;
    }
    TagMatchObject *t = PyObject_GC_New(TagMatchObject, &TagMatchType);
    if (t == NULL) {
        return NULL;
    }
    t->spec.key = Py_NewRef(key);
    t->spec.hash = h;
    t->spec.arity = arity;
    t->spec.down = down;
    t->spec.exit = exit;
    PyObject_GC_Track(t);
    return (PyObject *)t;
}

static PyObject *
tagmatch_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *key;
    Py_ssize_t arity;
    int down, exit;
    static char *kwlist[] = {"key", "arity", "down", "exit", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Onpp:TagMatch", kwlist, &key, &arity, &down,
                                     &exit)) {
        return NULL;
    }
    if (arity < 0) {
        PyErr_SetString(PyExc_ValueError, "TagMatch: arity must be >= 0 (0: no tuple)");
        return NULL;
    }
    return tagmatch_make(key, arity, down, exit);
}

static PyObject *
tagmatch_call(TagMatchObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *m;
    if (!PyArg_UnpackTuple(args, "TagMatch", 1, 1, &m) ||
        (kwds != NULL && PyDict_GET_SIZE(kwds) != 0 &&
         (PyErr_SetString(PyExc_TypeError, "TagMatch takes no keyword arguments"), 1))) {
        return NULL;
    }
    int ok = tagmatch_test(m, &self->spec);
    return ok < 0 ? NULL : PyBool_FromLong(ok);
}

static PyObject *
tagmatch_repr(TagMatchObject *self)
{
    TagSpec *t = &self->spec;
    return PyUnicode_FromFormat("TagMatch(%R, %zd, %s, %s)", t->key, t->arity,
                                t->down ? "True" : "False", t->exit ? "True" : "False");
}

static int
tagmatch_traverse(TagMatchObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->spec.key);
    return 0;
}

static int
tagmatch_clear(TagMatchObject *self)
{
    Py_CLEAR(self->spec.key);
    return 0;
}

static void
tagmatch_dealloc(TagMatchObject *self)
{
    PyObject_GC_UnTrack(self);
    tagmatch_clear(self);
    PyObject_GC_Del(self);
}

static PyMemberDef tagmatch_members[] = {
    {"key", T_OBJECT, offsetof(TagMatchObject, spec.key), READONLY, NULL},
    {"arity", T_PYSSIZET, offsetof(TagMatchObject, spec.arity), READONLY, NULL},
    {NULL},
};

static PyTypeObject TagMatchType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tether._runtime._cnode.TagMatch",
    .tp_basicsize = sizeof(TagMatchObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "TagMatch(key, arity, down, exit): the test of a tagged receive pattern, "
              "(key, ANY, ...) of length arity (0: none), Down(key, ...) if down, "
              "Exit(key, ...) if exit; call it with a message.",
    .tp_new = tagmatch_new,
    .tp_call = (ternaryfunc)tagmatch_call,
    .tp_repr = (reprfunc)tagmatch_repr,
    .tp_members = tagmatch_members,
    .tp_traverse = (traverseproc)tagmatch_traverse,
    .tp_clear = (inquiry)tagmatch_clear,
    .tp_dealloc = (destructor)tagmatch_dealloc,
};

/* A _mailbox.Matcher whose match is the TagMatch t (stolen) and whose keys
 * are (t.key,): what Matcher(t, (key,), False) makes, without running
 * Matcher.__init__.  The keys are a 1-tuple, not the frozenset the Python
 * reference builds (a frozenset costs ~900 instructions per call, a tuple ~60):
 * Mailbox.take only iterates them, and the C take of a TagMatch matcher reads
 * t.key and never looks at them.  NULL with an error (t released). */
static PyObject *
matcher_of(PyObject *t)
{
    if (t == NULL) {
        return NULL;
    }
    if (MatcherType == NULL) {
        Py_DECREF(t);
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_mailbox was not called");
        return NULL;
    }
    PyObject *keys = PyTuple_Pack(1, ((TagMatchObject *)t)->spec.key);
    PyObject *m = keys == NULL ? NULL : MatcherType->tp_alloc(MatcherType, 0);
    if (m == NULL) {
        Py_XDECREF(keys);
        Py_DECREF(t);
        return NULL;
    }
    SLOT(m, M_match) = t;
    SLOT(m, M_keys) = keys;
    SLOT(m, M_needs_context) = Py_NewRef(Py_False);
    return m;
}

/* tag_matcher(key, arity, down, exit): matcher_of(TagMatch(...)). */
static PyObject *
cnode_tag_matcher(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "tag_matcher(key, arity, down, exit) takes 4 arguments");
        return NULL;
    }
    Py_ssize_t arity = PyLong_AsSsize_t(args[1]);
    int down = PyObject_IsTrue(args[2]), exit = PyObject_IsTrue(args[3]);
    if ((arity == -1 && PyErr_Occurred()) || down < 0 || exit < 0) {
        return NULL;
    }
    return matcher_of(tagmatch_make(args[0], arity, down, exit));
}

/* reply_matcher(ref): mirrors _mailbox.reply_matcher (the reply (ref, x) or
 * the DOWN of ref): tag_matcher(ref, 2, True, False). */
static PyObject *
cnode_reply_matcher(PyObject *module, PyObject *ref)
{
    return matcher_of(tagmatch_make(ref, 2, 1, 0));
}

/* down_matcher(ref): mirrors _mailbox.down_matcher. */
static PyObject *
cnode_down_matcher(PyObject *module, PyObject *ref)
{
    return matcher_of(tagmatch_make(ref, 0, 1, 0));
}

/* The TagMatch a Matcher's match is when it runs no user code (a borrowed
 * reference), else NULL (no error). */
static TagMatchObject *
tagmatch_of(PyObject *matcher)
{
    if (MatcherType == NULL || Py_TYPE(matcher) != MatcherType) {
        return NULL;
    }
    PyObject *t = SLOT(matcher, M_match), *nc = SLOT(matcher, M_needs_context);
    return t != NULL && Py_TYPE(t) == &TagMatchType && nc == Py_False ? (TagMatchObject *)t
                                                                       : NULL;
}

#define BUCKET_FREE 16
static Bucket *bucket_free[BUCKET_FREE];
static int n_bucket_free;

static Bucket *
bucket_new(void)
{
    Bucket *b;
    if (n_bucket_free > 0) {
        b = bucket_free[--n_bucket_free];
        PyObject_Init((PyObject *)b, &BucketType);
    }
    else {
        b = PyObject_New(Bucket, &BucketType);
        if (b == NULL) {
            return NULL;
        }
    }
    b->pos = b->small;
    b->lo = b->hi = 0;
    b->cap = BUCKET_SMALL;
    return b;
}

static void
bucket_dealloc(Bucket *b)
{
    if (b->pos != b->small) {
        PyMem_Free(b->pos);
    }
    if (n_bucket_free < BUCKET_FREE) {
        bucket_free[n_bucket_free++] = b;
        return;
    }
    PyObject_Free(b);
}

static PyTypeObject BucketType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tether._runtime._cnode._Bucket",
    .tp_basicsize = sizeof(Bucket),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The positions of one index key's messages (internal).",
    .tp_dealloc = (destructor)bucket_dealloc,
};

/* Appending keeps the indices of the entries (a take walking the bucket may
 * run a put); the dead entries before lo are dropped by bucket_popleft. */
static int
bucket_append(Bucket *b, Py_ssize_t pos)
{
    if (b->hi == b->cap) {
        Py_ssize_t cap = b->cap * 2;
        Py_ssize_t *p;
        if (b->pos == b->small) {
            p = PyMem_Malloc((size_t)cap * sizeof(Py_ssize_t));
            if (p != NULL) {
                memcpy(p, b->small, sizeof(b->small));
            }
        }
        else {
            p = PyMem_Realloc(b->pos, (size_t)cap * sizeof(Py_ssize_t));
        }
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->pos = p;
        b->cap = cap;
    }
    b->pos[b->hi++] = pos;
    return 0;
}

/* Drop the first entry; move the rest to the front once most are dead. */
static void
bucket_popleft(Bucket *b)
{
    b->lo++;
    if (b->lo >= 16 && b->lo * 2 >= b->hi) {
        memmove(b->pos, b->pos + b->lo, (size_t)(b->hi - b->lo) * sizeof(Py_ssize_t));
        b->hi -= b->lo;
        b->lo = 0;
    }
}

/* Mirrors _mailbox.index_key: a new reference to the key (its hash in
 * *hash), a new reference to MISSING when the message is not indexable, or
 * NULL with an error. */
static PyObject *
index_key(PyObject *msg, Py_hash_t *hash)
{
    PyObject *key;
    PyTypeObject *t = Py_TYPE(msg);
    if (t == &PyTuple_Type) {
        if (PyTuple_GET_SIZE(msg) == 0) {
            return Py_NewRef(MISSING);
        }
        key = Py_NewRef(PyTuple_GET_ITEM(msg, 0));
    }
    else if ((PyObject *)t == DownType || (PyObject *)t == ExitType) {
        key = PyObject_GetAttr(msg, (PyObject *)t == DownType ? s_ref : s_pid);
        if (key == NULL) {
            return NULL;
        }
    }
    else {
        return Py_NewRef(MISSING);
    }
    *hash = PyObject_Hash(key);
    if (*hash == -1) {
        Py_DECREF(key);
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return NULL;
        }
        PyErr_Clear();
        return Py_NewRef(MISSING);
    }
    return key;
}

/* Add the message at pos to the index under key (not MISSING; hash is its
 * hash). */
static int
index_add(MailboxObject *mb, PyObject *key, Py_hash_t hash, Py_ssize_t pos)
{
    PyObject *b = DICT_GET_KH(mb->index, key, hash);
    if (b == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        Bucket *nb = bucket_new();
        if (nb == NULL) {
            return -1;
        }
        int rc = bucket_append(nb, pos) < 0 ? -1
                                            : DICT_SET_KH(mb->index, key, (PyObject *)nb, hash);
        Py_DECREF(nb);
        return rc;
    }
    return bucket_append((Bucket *)b, pos);
}

/* Mirrors PyMailbox._build_index. */
static int
mailbox_build_index(MailboxObject *mb)
{
    PyObject *index = PyDict_New();
    if (index == NULL) {
        return -1;
    }
    mb->index = index;
    for (Py_ssize_t i = mb->start; i < mb->end; i++) {
        PyObject *msg = mb->slots[i].msg;
        if (msg == NULL) {
            continue;
        }
        Py_hash_t hash;
        PyObject *key = index_key(msg, &hash);
        int rc = key == NULL ? -1 : key == MISSING ? 0 : index_add(mb, key, hash, i);
        Py_XDECREF(key);
        if (rc < 0) {
            Py_CLEAR(mb->index);
            return -1;
        }
    }
    return 0;
}

/* The index part of PyMailbox._unindex once the bucket b of the message at
 * pos is known (key, with its hash, is b's key in the index, or a key equal
 * to it): pos leaves b, and b the index when it is empty.  0 or -1. */
static int
bucket_drop(MailboxObject *mb, Bucket *b, Py_ssize_t pos, PyObject *key, Py_hash_t hash)
{
    if (b->pos[b->lo] == pos) {
        bucket_popleft(b);
    }
    else {
        for (Py_ssize_t i = b->lo + 1; i < b->hi; i++) {
            if (b->pos[i] == pos) {
                memmove(b->pos + i, b->pos + i + 1, (size_t)(b->hi - i - 1) * sizeof(Py_ssize_t));
                b->hi--;
                break;
            }
        }
    }
    return b->lo == b->hi ? DICT_DEL_KH(mb->index, key, hash) : 0;
}

/* Mirrors PyMailbox._unindex. */
static int
mailbox_unindex(MailboxObject *mb, Py_ssize_t pos, PyObject *msg)
{
    if (mb->index == NULL) {
        return 0;
    }
    Py_hash_t hash;
    PyObject *key = index_key(msg, &hash);
    if (key == NULL) {
        return -1;
    }
    if (key == MISSING) {
        Py_DECREF(key);
        return 0;
    }
    Bucket *b = (Bucket *)DICT_GET_KH(mb->index, key, hash);
    int rc = 0;
    if (b != NULL) {
        rc = bucket_drop(mb, b, pos, key, hash);
    }
    else if (PyErr_Occurred()) {
        rc = -1;
    }
    Py_DECREF(key);
    return rc;
}

/* Mirrors PyMailbox._reset_if_empty (the caller checked live == 0): keeps a
 * small array for the next message (a ping-pong empties it every time). */
static void
mailbox_reset(MailboxObject *mb)
{
    mb->start = mb->end = mb->holes = 0;
    mb->tail = mb->head = 0;
    mb->mark_seq = 0; /* every later message comes after the marker */
    Py_CLEAR(mb->index);
    if (mb->cap > 16) {
        PyMem_Free(mb->slots);
        mb->slots = NULL;
        mb->cap = 0;
    }
}

/* Move the live messages to the front of the array, holes squeezed out;
 * positions change, so the index goes. */
static void
mailbox_squeeze(MailboxObject *mb)
{
    Py_ssize_t j = 0;
    for (Py_ssize_t i = mb->start; i < mb->end; i++) {
        if (mb->slots[i].msg != NULL) {
            mb->slots[j++] = mb->slots[i];
        }
    }
    mb->start = 0;
    mb->end = j;
    mb->holes = 0;
    mb->version++;
    Py_CLEAR(mb->index);
}

/* Room for one more slot at the end. */
static int
mailbox_make_room(MailboxObject *mb)
{
    if (mb->end < mb->cap) {
        return 0;
    }
    if (!mb->scanning && mb->start + mb->holes >= mb->live && mb->cap > 0) {
        mailbox_squeeze(mb);
        if (mb->end < mb->cap) {
            return 0;
        }
    }
    Py_ssize_t cap = mb->cap ? mb->cap * 2 : 4;
    if ((size_t)cap > PY_SSIZE_T_MAX / sizeof(MSlot)) {
        PyErr_NoMemory();
        return -1;
    }
    MSlot *s = PyMem_Realloc(mb->slots, (size_t)cap * sizeof(MSlot));
    if (s == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    mb->slots = s;
    mb->cap = cap;
    return 0;
}

/* Mirrors PyMailbox.put.  Returns 0 or -1. */
static int
mailbox_put(MailboxObject *mb, PyObject *msg)
{
    PyObject *key = NULL;
    Py_hash_t hash = -1;
    if (mb->index != NULL) {
        key = index_key(msg, &hash);
        if (key == NULL) {
            return -1;
        }
    }
    if (mailbox_make_room(mb) < 0) {
        Py_XDECREF(key);
        return -1;
    }
    Py_ssize_t pos = mb->end++;
    mb->slots[pos].msg = Py_NewRef(msg);
    mb->slots[pos].seq = mb->tail++;
    mb->live++;
    int rc = 0;
    if (key != NULL) {
        /* make_room may have squeezed (and dropped the index) */
        if (key != MISSING && mb->index != NULL) {
            rc = index_add(mb, key, hash, pos);
            if (rc < 0) {
                Py_CLEAR(mb->index); /* rebuilt when next needed */
            }
        }
        Py_DECREF(key);
    }
    return rc;
}

/* Mirrors PyMailbox._remove: take the message at pos out (a new reference).
 * b: NULL, or the index bucket the message is in, found by a take through
 * key (hash its hash): its unindexing then needs no key or lookup of its
 * own (the message's key is in b because it equals b's key, as key does). */
static PyObject *
mailbox_remove_at(MailboxObject *mb, Py_ssize_t pos, Bucket *b, PyObject *key, Py_hash_t hash)
{
    PyObject *msg = mb->slots[pos].msg;
    if (mb->slots[pos].seq == mb->head) {
        mb->head++;
    }
    if ((b != NULL && mb->index != NULL ? bucket_drop(mb, b, pos, key, hash)
                                        : mailbox_unindex(mb, pos, msg)) < 0) {
        Py_CLEAR(mb->index); /* consistent again: rebuilt when next needed */
        PyErr_Clear();       /* a hash that raised now, having succeeded before */
    }
    mb->slots[pos].msg = NULL;
    mb->live--;
    mb->version++;
    if (mb->live == 0) {
        mailbox_reset(mb);
        return msg;
    }
    if (pos == mb->start) {
        do {
            mb->start++;
        } while (mb->slots[mb->start].msg == NULL && (mb->holes--, 1));
    }
    else if (pos == mb->end - 1) {
        do {
            mb->end--;
        } while (mb->slots[mb->end - 1].msg == NULL && (mb->holes--, 1));
    }
    else {
        mb->holes++;
    }
    return msg;
}

static PyObject *
mailbox_remove(MailboxObject *mb, Py_ssize_t pos)
{
    return mailbox_remove_at(mb, pos, NULL, NULL, -1);
}

/* Mirrors PyMailbox.pop_first (raises IndexError on an empty mailbox, where
 * the Python's precondition is broken). */
static PyObject *
mailbox_pop_first(MailboxObject *mb)
{
    if (mb->live == 0) {
        PyErr_SetString(PyExc_IndexError, "pop_first from an empty mailbox");
        return NULL;
    }
    mb->head = mb->slots[mb->start].seq; /* PyMailbox.pop_first skips to it */
    return mailbox_remove(mb, mb->start);
}

/* A take's test of one message: 1, 0 or -1 with an error. */
typedef int (*match_fn)(PyObject *msg, void *ctx);

/* The test of a Matcher: its match (Python code), called with the message. */
static int
matcher_call(PyObject *msg, void *match)
{
    PyObject *r = PyObject_CallOneArg((PyObject *)match, msg);
    if (r == NULL) {
        return -1;
    }
    int ok = PyObject_IsTrue(r);
    Py_DECREF(r);
    return ok;
}

/* Test the message at pos; -1 too if the mailbox changed meanwhile other
 * than by a put (the test may run Python code: see the comment above). */
static int
take_match(MailboxObject *mb, match_fn fn, void *ctx, Py_ssize_t pos)
{
    PyObject *msg = Py_NewRef(mb->slots[pos].msg);
    unsigned long v = mb->version;
    mb->scanning++;
    int ok = fn(msg, ctx);
    mb->scanning--;
    Py_DECREF(msg);
    if (ok >= 0 && mb->version != v) {
        PyErr_SetString(PyExc_RuntimeError, "mailbox changed during a receive's match");
        return -1;
    }
    return ok;
}

/* The index part of PyMailbox.take for one key: lowers *best to the position
 * of the key's first match if that comes before it, and then sets *found
 * (when not NULL) to a new reference to the key's bucket.  0 or -1. */
static int
take_search_key(MailboxObject *mb, PyObject *key, Py_hash_t hash, match_fn fn, void *ctx,
                Py_ssize_t *best, Bucket **found)
{
    PyObject *b = DICT_GET_KH(mb->index, key, hash);
    if (b == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(b); /* a put meanwhile may grow it (read anew each time) */
    int rc = 0;
    Py_ssize_t hi = ((Bucket *)b)->hi; /* what a put adds meanwhile came later */
    for (Py_ssize_t i = ((Bucket *)b)->lo; i < hi; i++) {
        Py_ssize_t pos = ((Bucket *)b)->pos[i];
        if (*best != -1 && pos > *best) {
            break;
        }
        int ok = take_match(mb, fn, ctx, pos);
        if (ok < 0) {
            rc = -1;
            break;
        }
        if (ok) {
            *best = pos;
            if (found != NULL) {
                *found = (Bucket *)Py_NewRef(b);
            }
            break;
        }
    }
    Py_DECREF(b);
    return rc;
}

/* PyMailbox.take's `len(keys) == 1 and next(iter(keys)) is ref`: 1, 0, or -1
 * with an error. */
static int
single_key_is(PyObject *keys, PyObject *ref)
{
    if (PyTuple_CheckExact(keys)) {
        return PyTuple_GET_SIZE(keys) == 1 && PyTuple_GET_ITEM(keys, 0) == ref;
    }
    Py_ssize_t n = PyObject_Size(keys);
    if (n != 1) {
        return n < 0 ? -1 : 0;
    }
    PyObject *it = PyObject_GetIter(keys);
    if (it == NULL) {
        return -1;
    }
    PyObject *k = PyIter_Next(it);
    Py_DECREF(it);
    if (k == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    int is = k == ref;
    Py_DECREF(k);
    return is;
}

/* A take's scan: remove and return the first message from pos on that fn
 * accepts (a new reference), else a new reference to MISSING; NULL with an
 * error. */
static PyObject *
take_scan(MailboxObject *mb, Py_ssize_t pos, match_fn fn, void *ctx)
{
    Py_ssize_t end = mb->end; /* what a put adds meanwhile came later */
    for (; pos < end; pos++) {
        if (mb->slots[pos].msg == NULL) {
            continue;
        }
        int ok = take_match(mb, fn, ctx, pos);
        if (ok < 0) {
            return NULL;
        }
        if (ok) {
            return mailbox_remove(mb, pos);
        }
    }
    return Py_NewRef(MISSING);
}

/* PyMailbox.take's receive marker (S-5): the scan of the messages whose seq
 * is mark_seq or more (at most INDEX_THRESHOLD: the caller checked), the first
 * of them found from the end (seqs increase along the array). */
static PyObject *
take_after_mark(MailboxObject *mb, match_fn fn, void *ctx)
{
    Py_ssize_t pos = mb->end;
    while (pos > mb->start && mb->slots[pos - 1].seq >= mb->mark_seq) {
        pos--;
    }
    return take_scan(mb, pos, fn, ctx);
}

/* Mirrors PyMailbox.take, for a test fn(msg, ctx) whose index keys are the
 * iterable keys, or the one key key1 (hash1 its hash), or unknown (both
 * NULL: a scan).
 * Returns the message taken (a new reference), else a new reference to
 * MISSING; NULL with an error. */
static PyObject *
mailbox_take_with(MailboxObject *mb, PyObject *keys, PyObject *key1, Py_hash_t hash1, match_fn fn,
                  void *ctx)
{
    if (mb->live == 0) {
        return Py_NewRef(MISSING);
    }
    if ((keys != NULL || key1 != NULL) && mb->live > INDEX_THRESHOLD) {
        if (mb->mark_ref != NULL && mb->tail - mb->mark_seq <= INDEX_THRESHOLD) {
            int one = key1 != NULL ? key1 == mb->mark_ref : single_key_is(keys, mb->mark_ref);
            if (one < 0) {
                return NULL;
            }
            if (one) {
                return take_after_mark(mb, fn, ctx);
            }
        }
        if (mb->index == NULL && mailbox_build_index(mb) < 0) {
            return NULL;
        }
        /* positions stay valid: take_match fails on any change but a put */
        Py_ssize_t best = -1;
        if (key1 != NULL) {
            Bucket *b = NULL;
            if (take_search_key(mb, key1, hash1, fn, ctx, &best, &b) < 0) {
                return NULL;
            }
            if (b == NULL) {
                return Py_NewRef(MISSING);
            }
            PyObject *msg = mailbox_remove_at(mb, best, b, key1, hash1);
            Py_DECREF(b);
            return msg;
        }
        else {
            PyObject *it = PyObject_GetIter(keys), *key;
            if (it == NULL) {
                return NULL;
            }
            while ((key = PyIter_Next(it)) != NULL) {
                Py_hash_t h = PyObject_Hash(key);
                int rc = h == -1 ? -1 : take_search_key(mb, key, h, fn, ctx, &best, NULL);
                Py_DECREF(key);
                if (rc < 0) {
                    break;
                }
            }
            Py_DECREF(it);
            if (PyErr_Occurred()) {
                return NULL;
            }
        }
        return best == -1 ? Py_NewRef(MISSING) : mailbox_remove(mb, best);
    }
    if (mb->holes > mb->live + 64) {
        mailbox_squeeze(mb);
    }
    return take_scan(mb, mb->start, fn, ctx);
}

/* Mirrors PyMailbox.take(matcher). */
static PyObject *
mailbox_take(MailboxObject *mb, PyObject *matcher)
{
    if (MISSING == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_mailbox was not called");
        return NULL;
    }
    if (mb->live == 0) {
        return Py_NewRef(MISSING);
    }
    PyObject *keys = PyObject_GetAttr(matcher, s_keys);
    if (keys == NULL) {
        return NULL;
    }
    PyObject *match = PyObject_GetAttr(matcher, s_match);
    if (match == NULL) {
        Py_DECREF(keys);
        return NULL;
    }
    PyObject *r;
    if (Py_TYPE(match) == &TagMatchType && keys != Py_None) {
        TagSpec *t = &((TagMatchObject *)match)->spec; /* its keys are {t.key} */
        r = mailbox_take_with(mb, NULL, t->key, t->hash, tagmatch_test, t);
    }
    else {
        r = mailbox_take_with(mb, keys == Py_None ? NULL : keys, NULL, -1, matcher_call,
                              (void *)match);
    }
    Py_DECREF(keys);
    Py_DECREF(match);
    return r;
}

/* Mirrors PyMailbox.push_front. */
static int
mailbox_push_front(MailboxObject *mb, PyObject *msg)
{
    long long seq = mb->head - 1;
    if (mb->live == 0) {
        mb->start = mb->end = mb->holes = 0;
    }
    if (mb->start == 0) {
        if (mailbox_make_room(mb) < 0) {
            return -1;
        }
        memmove(mb->slots + 1, mb->slots, (size_t)mb->end * sizeof(MSlot));
        mb->end++;
    }
    else {
        mb->start--;
    }
    /* start is 0 after the memmove */
    mb->slots[mb->start].msg = Py_NewRef(msg);
    mb->slots[mb->start].seq = seq;
    mb->head = seq;
    mb->live++;
    mb->version++;
    Py_CLEAR(mb->index); /* rebuilt when next needed */
    Py_CLEAR(mb->mark_ref); /* msg may have come after it: its seq is below it now */
    return 0;
}

/* Mirrors PyMailbox.mark. */
static void
mailbox_mark(MailboxObject *mb, PyObject *ref)
{
    Py_XSETREF(mb->mark_ref, Py_NewRef(ref));
    mb->mark_seq = mb->tail;
}

static int
mailbox_traverse(MailboxObject *mb, visitproc visit, void *arg)
{
    for (Py_ssize_t i = mb->start; i < mb->end; i++) {
        Py_VISIT(mb->slots[i].msg);
    }
    Py_VISIT(mb->index);
    Py_VISIT(mb->mark_ref);
    return 0;
}

/* Empties the mailbox; the messages are released after it is consistent
 * (their finalizers may run code that uses it). */
static int
mailbox_clear(MailboxObject *mb)
{
    MSlot *slots = mb->slots;
    Py_ssize_t start = mb->start, end = mb->end;
    PyObject *index = mb->index, *mark = mb->mark_ref;
    mb->slots = NULL;
    mb->cap = mb->start = mb->end = mb->live = mb->holes = 0;
    mb->tail = mb->head = mb->mark_seq = 0;
    mb->index = mb->mark_ref = NULL;
    mb->version++;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_XDECREF(slots[i].msg);
    }
    PyMem_Free(slots);
    Py_XDECREF(index);
    Py_XDECREF(mark);
    return 0;
}

static void
mailbox_dealloc(MailboxObject *mb)
{
    PyObject_GC_UnTrack(mb);
    Py_TRASHCAN_BEGIN(mb, mailbox_dealloc)
    mailbox_clear(mb);
    PyObject_GC_Del(mb);
    Py_TRASHCAN_END
}

static PyObject *
mailbox_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Mailbox() takes no arguments");
        return NULL;
    }
    MailboxObject *mb = PyObject_GC_New(MailboxObject, type);
    if (mb == NULL) {
        return NULL;
    }
    mb->slots = NULL;
    mb->cap = mb->start = mb->end = mb->live = mb->holes = 0;
    mb->tail = mb->head = 0;
    mb->index = NULL;
    mb->version = 0;
    mb->scanning = 0;
    mb->mark_ref = NULL;
    mb->mark_seq = 0;
    PyObject_GC_Track(mb);
    return (PyObject *)mb;
}

static Py_ssize_t
mailbox_len(MailboxObject *mb)
{
    return mb->live;
}

/* Mirrors PyMailbox.__iter__ (arrival order), over a snapshot. */
static PyObject *
mailbox_iter(MailboxObject *mb)
{
    PyObject *list = PyList_New(mb->live);
    if (list == NULL) {
        return NULL;
    }
    Py_ssize_t j = 0;
    for (Py_ssize_t i = mb->start; i < mb->end; i++) {
        if (mb->slots[i].msg != NULL) {
            PyList_SET_ITEM(list, j++, Py_NewRef(mb->slots[i].msg));
        }
    }
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

static PyObject *
mailbox_put_method(MailboxObject *mb, PyObject *msg)
{
    if (mailbox_put(mb, msg) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mailbox_push_front_method(MailboxObject *mb, PyObject *msg)
{
    if (mailbox_push_front(mb, msg) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mailbox_mark_method(MailboxObject *mb, PyObject *ref)
{
    mailbox_mark(mb, ref);
    Py_RETURN_NONE;
}

static PyObject *
mailbox_pop_first_method(MailboxObject *mb, PyObject *unused)
{
    return mailbox_pop_first(mb);
}

static PyObject *
mailbox_take_method(MailboxObject *mb, PyObject *matcher)
{
    return mailbox_take(mb, matcher);
}

static PyObject *
mailbox_indexed(MailboxObject *mb, PyObject *unused)
{
    return PyBool_FromLong(mb->index != NULL);
}

static PyObject *
mailbox_next_seq(MailboxObject *mb, PyObject *unused)
{
    return PyLong_FromLongLong(mb->tail);
}

/* Mirrors PyMailbox.holds: binary search of the seq (seqs increase along
 * the array). */
static PyObject *
mailbox_holds(MailboxObject *mb, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "holds(seq, msg) takes 2 arguments");
        return NULL;
    }
    int overflow;
    long long seq = PyLong_AsLongLongAndOverflow(args[0], &overflow);
    if (seq == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow) {
        Py_RETURN_FALSE;
    }
    Py_ssize_t lo = mb->start, hi = mb->end;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (mb->slots[mid].seq < seq) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return PyBool_FromLong(lo < mb->end && mb->slots[lo].seq == seq && mb->slots[lo].msg == args[1]);
}

static PyObject *
mailbox_sizeof(MailboxObject *mb, PyObject *unused)
{
    size_t n = sizeof(MailboxObject) + (size_t)mb->cap * sizeof(MSlot);
    if (mb->index != NULL) {
        Py_ssize_t pos = 0;
        PyObject *k, *b;
        PyObject *s = PyObject_CallMethod(mb->index, "__sizeof__", NULL);
        if (s == NULL) {
            return NULL;
        }
        size_t ds = PyLong_AsSize_t(s);
        Py_DECREF(s);
        if (ds == (size_t)-1 && PyErr_Occurred()) {
            return NULL;
        }
        n += ds;
        while (PyDict_Next(mb->index, &pos, &k, &b)) {
            n += sizeof(Bucket) + (size_t)((Bucket *)b)->cap * sizeof(Py_ssize_t);
        }
    }
    return PyLong_FromSize_t(n);
}

static PyMethodDef mailbox_methods[] = {
    {"put", (PyCFunction)mailbox_put_method, METH_O, "put(msg): queue msg last."},
    {"push_front", (PyCFunction)mailbox_push_front_method, METH_O,
     "push_front(msg): put msg back before every queued message."},
    {"mark", (PyCFunction)mailbox_mark_method, METH_O,
     "mark(ref): set the receive marker (ref was just made)."},
    {"pop_first", (PyCFunction)mailbox_pop_first_method, METH_NOARGS,
     "pop_first(): remove and return the oldest message."},
    {"take", (PyCFunction)mailbox_take_method, METH_O,
     "take(matcher): remove and return the first message matcher accepts, else MISSING."},
    {"indexed", (PyCFunction)mailbox_indexed, METH_NOARGS, "indexed(): whether the index is built."},
    {"next_seq", (PyCFunction)mailbox_next_seq, METH_NOARGS,
     "next_seq(): the arrival number the next put gets."},
    {"holds", (PyCFunction)(void (*)(void))mailbox_holds, METH_FASTCALL,
     "holds(seq, msg): whether msg is still queued as arrival number seq."},
    {"__sizeof__", (PyCFunction)mailbox_sizeof, METH_NOARGS, NULL},
    {NULL},
};

static PySequenceMethods mailbox_as_sequence = {
    .sq_length = (lenfunc)mailbox_len,
};

static PyTypeObject CMailboxType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tether._runtime._cnode.Mailbox",
    .tp_basicsize = sizeof(MailboxObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A process's message queue: the native core's _mailbox.PyMailbox.",
    .tp_new = mailbox_new,
    .tp_dealloc = (destructor)mailbox_dealloc,
    .tp_traverse = (traverseproc)mailbox_traverse,
    .tp_clear = (inquiry)mailbox_clear,
    .tp_as_sequence = &mailbox_as_sequence,
    .tp_iter = (getiterfunc)mailbox_iter,
    .tp_methods = mailbox_methods,
};

static int offset_of(PyObject *cls, const char *name, Py_ssize_t *out);

/* init_mailbox(MISSING, Down, Exit, ANY, _Record, Matcher): _mailbox's
 * objects the C Mailbox and receive use. */
static PyObject *
cnode_init_mailbox(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "init_mailbox(MISSING, Down, Exit, ANY, _Record, Matcher) takes 6 arguments");
        return NULL;
    }
    if (!PyType_Check(args[1]) || !PyType_Check(args[2]) || !PyType_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError, "init_mailbox: Down, Exit and Matcher must be classes");
        return NULL;
    }
    if (offset_of(args[1], "ref", &Down_ref) < 0 || offset_of(args[1], "type", &Down_type) < 0 ||
        offset_of(args[1], "pid", &Down_pid) < 0 || offset_of(args[1], "reason", &Down_reason) < 0 ||
        offset_of(args[2], "pid", &Exit_pid) < 0 || offset_of(args[2], "reason", &Exit_reason) < 0 ||
        offset_of(args[5], "match", &M_match) < 0 || offset_of(args[5], "keys", &M_keys) < 0 ||
        offset_of(args[5], "needs_context", &M_needs_context) < 0) {
        return NULL;
    }
    Py_XSETREF(MatcherType, (PyTypeObject *)Py_NewRef(args[5]));
    Py_XSETREF(MISSING, Py_NewRef(args[0]));
    Py_XSETREF(DownType, Py_NewRef(args[1]));
    Py_XSETREF(ExitType, Py_NewRef(args[2]));
    Py_XSETREF(ANY, Py_NewRef(args[3]));
    Py_XSETREF(RecordType, Py_NewRef(args[4]));
    Py_RETURN_NONE;
}

/* ---- Node.deliver ----------------------------------------------------------- */

/* Whether a slot's value is true (`if p.x:`); -1 on error. */
static int
slot_true(PyObject *o, Py_ssize_t off)
{
    PyObject *v = get_slot(o, off);
    return v == NULL ? -1 : PyObject_IsTrue(v);
}


/* Node.queue(p). */
static int
queue(PyObject *node, PyObject *p)
{
    PyObject *runq = get_slot(node, N_runq);
    if (runq == NULL || runq_append(runq, p) < 0) {
        return -1;
    }
    int truth = slot_true(node, N_scheduled);
    if (truth < 0) {
        return -1;
    }
    if (!truth) {
        set_slot(node, N_scheduled, Py_True);
        return run_soon(node);
    }
    return 0;
}

/* Mirrors Node.make_runnable: p resumes with value.  0 or -1. */
static int
make_runnable(PyObject *node, PyObject *p, PyObject *value)
{
    set_slot(p, P_state, ST[RUNNABLE]);
    set_slot(p, P_resume, value);
    return queue(node, p);
}

/* Mirrors Node._hand_over for a receive with a timeout and no filter, or with
 * a Matcher that runs no user predicate (needs_context false: the runtime's
 * own patterns, e.g. every GenServer.call's reply matcher); a Matcher that
 * needs the receiver's context (a user predicate sees self()) goes to the
 * Python method.  1: handed over; 0: not taken (to the mailbox); -1: error. */
/* Node._hand_over's `except BaseException` around the match: the receiver
 * finds out in its own context, where the same match raises again
 * (_enqueue, then _wake_for_rescan).  1 (taken), or -1. */
static int
rescan_later(PyObject *node, PyObject *p, PyObject *msg)
{
    PyErr_Clear();
    PyObject *r = call_method2(node, s_enqueue, p, msg);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    r = call_method1(node, s_wake_for_rescan, p);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 1;
}

static int
hand_over(PyObject *node, PyObject *p, PyObject *msg, PyObject *matcher, PyObject *timer)
{
    PyObject *r;
    TagMatchObject *tm = matcher == Py_None ? NULL : tagmatch_of(matcher);
    if (tm != NULL) {
        /* the runtime's own pattern (a TagMatch): its test in C */
        int truth = tagmatch_test(msg, &tm->spec);
        if (truth <= 0) {
            return truth < 0 ? rescan_later(node, p, msg) : 0;
        }
        set_slot(p, P_matcher, Py_None);
        timer = get_slot(p, P_timer); /* an __eq__ may have run Python code */
        if (timer == NULL) {
            return -1;
        }
    }
    else if (matcher != Py_None) {
        PyObject *nc = PyObject_GetAttr(matcher, s_needs_context);
        if (nc == NULL) {
            return -1;
        }
        Py_DECREF(nc); /* the Matcher keeps it */
        if (nc != Py_False) {
            goto python;
        }
        PyObject *match = PyObject_GetAttr(matcher, s_match);
        if (match == NULL) {
            return -1;
        }
        PyObject *ok = PyObject_CallOneArg(match, msg);
        Py_DECREF(match);
        if (ok == NULL) {
            return rescan_later(node, p, msg);
        }
        int truth = PyObject_IsTrue(ok); /* `if ok:`, outside the try */
        Py_DECREF(ok);
        if (truth <= 0) {
            return truth;
        }
        set_slot(p, P_matcher, Py_None);
        timer = get_slot(p, P_timer); /* the match ran Python code */
        if (timer == NULL) {
            return -1;
        }
    }
    if (timer != Py_None && cancel_receive_timer(node, p) < 0) {
        return -1;
    }
    return make_runnable(node, p, msg) < 0 ? -1 : 1;
python:
    r = call_method2(node, s_hand_over, p, msg);
    if (r == NULL) {
        return -1;
    }
    int taken = PyObject_IsTrue(r);
    Py_DECREF(r);
    return taken;
}

/* Mirrors Node.deliver: put msg in live process p's mailbox, or hand it to
 * its receive.  Returns 0 or -1. */
static int
deliver(PyObject *node, PyObject *p, PyObject *msg)
{
    PyObject *r;
    if (Py_TYPE(p) != ProcessType) {
        PyObject *args[3] = {node, p, msg};
        r = PyObject_Vectorcall(deliver_py, args, 3, NULL);
        goto result;
    }
    if (inc_counter(p, P_received) < 0) {
        return -1;
    }
    PyObject *state = get_slot(p, P_state);
    if (state == NULL) {
        return -1;
    }
    if (state_is(state, WAITING)) {
        PyObject *matcher = get_slot(p, P_matcher), *timer = get_slot(p, P_timer);
        if (matcher == NULL || timer == NULL) {
            return -1;
        }
        if (matcher == Py_None && timer == Py_None) {
            /* The hot path: a plain receive, no timeout. */
            return make_runnable(node, p, msg);
        }
        int taken = hand_over(node, p, msg, matcher, timer);
        if (taken) {
            return taken < 0 ? -1 : 0;
        }
    }
    PyObject *mb = get_slot(p, P_mailbox);
    if (mb == NULL) {
        return -1;
    }
    if (mb == Py_None) {
        r = call_method2(node, s_enqueue, p, msg); /* makes the Mailbox */
        goto result;
    }
    if (Py_TYPE(mb) == &CMailboxType) {
        return mailbox_put((MailboxObject *)mb, msg); /* the flood path (the receiver is busy) */
    }
    r = call_method1(mb, s_put, msg);
result:
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
cnode_deliver(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "deliver(node, p, msg) takes 3 arguments");
        return NULL;
    }
    if (deliver(args[0], args[1], args[2]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- send ------------------------------------------------------------------- */

/* The process table's operations on a Pid key without calling Pid.__hash__
 * (Python code): it returns the _hash slot, which CPython's slot_tp_hash turns
 * into the hash the dict stores as pid_hash does (the int itself when it fits
 * a Py_hash_t, else its hash; -1 becomes -2).  Keys that are not Pids (Ports)
 * take the plain calls. */
static inline Py_hash_t
pid_hash(PyObject *pid, PyObject *table)
{
#if PY_VERSION_HEX < 0x030E0000 /* the known-hash calls: private, still in 3.13 */
    PyObject *h_o = Py_TYPE(pid) == PidType ? SLOT(pid, Pid_hash) : NULL;
    if (h_o != NULL && PyLong_CheckExact(h_o) && PyDict_CheckExact(table)) {
        Py_hash_t h = PyLong_AsSsize_t(h_o);
        if (h == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            h = PyObject_Hash(h_o); /* an int's: cannot fail */
        }
        return h == -1 ? -2 : h;
    }
#endif
    return -1;
}

/* table.get(pid): a borrowed reference, or NULL (an error set if any). */
static PyObject *
table_get(PyObject *table, PyObject *pid)
{
    Py_hash_t h = pid_hash(pid, table);
    return h == -1 ? PyDict_GetItemWithError(table, pid) : DICT_GET_KH(table, pid, h);
}

/* table[pid] = p */
static int
table_set(PyObject *table, PyObject *pid, PyObject *p)
{
    Py_hash_t h = pid_hash(pid, table);
    return h == -1 ? PyObject_SetItem(table, pid, p) : DICT_SET_KH(table, pid, p, h);
}

/* del table[pid] */
static int
table_del(PyObject *table, PyObject *pid)
{
    Py_hash_t h = pid_hash(pid, table);
    return h == -1 ? PyObject_DelItem(table, pid) : DICT_DEL_KH(table, pid, h);
}

static Py_ssize_t N_dist;   /* with the lifecycle's offsets */
static Py_ssize_t Pid_node; /* with init_spawn's */
static PyObject *s_send;

/* Mirrors _api.send for its hot cases, a pid (local, or of another node) or an
 * alias from inside a process; every other case is _api.send itself
 * (send_py). */
static PyObject *
cnode_send(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs != 2 || kwnames != NULL || send_py == NULL) {
        goto python;
    }
    PyObject *dest = args[0], *msg = args[1];
    PyObject *node = the_node;
    if (node == NULL || Py_TYPE(node) != NodeType) {
        goto python;
    }
    if (Py_TYPE(dest) == RefType && RefType != NULL) {
        /* An alias (every GenServer reply goes to one): _api.send's Ref case,
         * node.send_alias(dest, msg) unless the sender is dead. */
        PyObject *p = SLOT(node, N_current);
        if (p == NULL || p == Py_None || Py_TYPE(p) != ProcessType) {
            goto python;
        }
        PyObject *state = get_slot(p, P_state);
        if (state == NULL) {
            return NULL;
        }
        if (!state_is(state, DEAD) && send_alias(node, dest, msg) < 0) {
            return NULL;
        }
        return Py_NewRef(msg);
    }
    if (Py_TYPE(dest) != PidType) {
        goto python;
    }
    PyObject *p = SLOT(node, N_current), *table = SLOT(node, N_table);
    if (p == NULL || p == Py_None || table == NULL || Py_TYPE(p) != ProcessType) {
        goto python;
    }
    /* table.get(dest); a send to self() is to the sender itself while it
     * lives (a dead sender's send is dropped below either way) */
    PyObject *t = P_pid != 0 && SLOT(p, P_pid) == dest ? p : table_get(table, dest);
    if (t == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        /* not here: _api.send's remote case (every message to another node),
         * node.dist.send(p.pid, dest, msg) unless the sender is dead; a dead
         * local pid's message, or one to another node with no distribution,
         * is dropped */
        PyObject *dnode = Pid_node != 0 ? SLOT(dest, Pid_node) : NULL;
        PyObject *dist = N_dist != 0 ? SLOT(node, N_dist) : NULL;
        if (dnode == NULL || dist == NULL) {
            goto python;
        }
        if (dnode != Py_None && dist != Py_None) {
            PyObject *state = get_slot(p, P_state), *pid = get_slot(p, P_pid);
            if (state == NULL || pid == NULL) {
                return NULL;
            }
            if (!state_is(state, DEAD)) {
                PyObject *cargs[4] = {dist, pid, dest, msg};
                PyObject *r = PyObject_VectorcallMethod(
                    s_send, cargs, 4 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
                if (r == NULL) {
                    return NULL;
                }
                Py_DECREF(r);
            }
        }
        return Py_NewRef(msg);
    }
    PyObject *state = get_slot(p, P_state);
    if (state == NULL) {
        return NULL;
    }
    if (!state_is(state, DEAD)) {
        Py_INCREF(t);
        int rc = deliver(node, t, msg);
        Py_DECREF(t);
        if (rc < 0) {
            return NULL;
        }
    }
    return Py_NewRef(msg);
python:
    if (send_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_api was not called");
        return NULL;
    }
    return PyObject_Vectorcall(send_py, args, nargs, kwnames);
}

/* ---- receive ------------------------------------------------------------------ */

/* The awaitable `receive(...)` returns: mirrors the generator _api._receive,
 * without a frame per call, for the receives every process and behaviour
 * makes:
 *   receive()                           the plain receive;
 *   receive((key, ANY, ...))            a tagged message;
 *   receive(Exit(pid, ANY))             what a trapping parent waits for;
 *   receive(Down(ref, ANY, ANY, ANY))   a monitor's DOWN;
 *   receive(matcher)                    a Matcher whose match is a TagMatch
 *                                       (GenServer.call's reply_filter);
 * each with timeout=None or a finite float >= 0.  The pattern's test runs in
 * C (a TagSpec: see TagMatch); a wait sets p.matcher to a Matcher holding a
 * TagMatch (made at the first wait, or the one given), which deliver's
 * hand_over runs in C too.  Every other receive (other filters, a timeout of
 * another type, a bad one) is _receive itself, and where _receive would do
 * anything but take, wait and time out (outside a process, a dead process,
 * the fairness yield every 256th quick receive) the awaitable delegates to a
 * _receive generator made at that point, so those paths stay in Python. */
typedef struct {
    PyObject_HEAD
    int state;       /* FRESH, WAITING, DONE, DELEGATE */
    int rescanned;   /* woken with RESCAN once: _receive's loop, deadline or not */
    int tagged;      /* spec holds the pattern's test; else the plain receive */
    int timed;       /* a timeout was given (timeout != NULL) */
    PyObject *p;     /* the receiving process, once started */
    PyObject *inner; /* the _receive generator it delegates to */
    /* The arguments, for a delegation: the filter (NULL: none) and the
     * timeout (NULL: None, else a float). */
    PyObject *filter, *timeout;
    TagSpec spec;      /* the pattern's test (tagged), spec.key a new reference */
    PyObject *matcher; /* the Matcher it waits with: given, or made at its first wait */
    PyObject *deadline; /* loop.time() + timeout, once it waits (timed) */
} Receive;

enum { R_FRESH, R_WAITING, R_DONE, R_DELEGATE };

/* Mirrors the part of _mailbox._tag_key the native core keys in C, for one
 * filter f: fills spec (key a new reference) and returns 1, or returns 0
 * with no error (_receive compiles it: compile_filters' rules, its errors).
 *   (key, ANY, ...), key a literal: not ANY, a class, a tuple or a Record;
 *   Exit(pid, ANY), pid exactly a Pid;  Down(ref, ANY, ANY, ANY), ref
 *   exactly a Ref (the fields read from their slots: no _fields walk). */
static int
tag_spec(PyObject *f, TagSpec *spec)
{
    if (ANY == NULL || DownType == NULL) {
        return 0;
    }
    PyObject *ft = (PyObject *)Py_TYPE(f), *key;
    spec->arity = 0;
    spec->down = spec->exit = 0;
    if (ft == (PyObject *)&PyTuple_Type) {
        Py_ssize_t n = PyTuple_GET_SIZE(f);
        if (n == 0) {
            return 0;
        }
        for (Py_ssize_t i = 1; i < n; i++) {
            if (PyTuple_GET_ITEM(f, i) != ANY) {
                return 0;
            }
        }
        key = PyTuple_GET_ITEM(f, 0);
        if (!is_own_id_type(Py_TYPE(key))) { /* a Pid or a Ref (the usual tag) passes */
            if (key == ANY || PyType_Check(key) || PyTuple_CheckExact(key)) {
                return 0;
            }
            int rec = PyObject_IsInstance(key, RecordType);
            if (rec != 0) {
                PyErr_Clear();
                return 0;
            }
        }
        spec->arity = n;
    }
    else if (ft == ExitType) {
        key = SLOT(f, Exit_pid);
        if (key == NULL || Py_TYPE(key) != PidType || SLOT(f, Exit_reason) != ANY) {
            return 0;
        }
        spec->exit = 1;
    }
    else if (ft == DownType) {
        key = SLOT(f, Down_ref);
        if (key == NULL || Py_TYPE(key) != RefType || RefType == NULL ||
            SLOT(f, Down_type) != ANY || SLOT(f, Down_pid) != ANY ||
            SLOT(f, Down_reason) != ANY) {
            return 0;
        }
        spec->down = 1;
    }
    else {
        return 0;
    }
    spec->hash = PyObject_Hash(key);
    if (spec->hash == -1) {
        PyErr_Clear(); /* unhashable: compile_filters' general matcher (a scan) */
        return 0;
    }
    spec->key = Py_NewRef(key);
    return 1;
}

static PyTypeObject ReceiveType;

/* Mailbox.pop_first: the C Mailbox's, directly. */
static PyObject *
pop_first(PyObject *mb)
{
    if (Py_TYPE(mb) != &CMailboxType) {
        return PyObject_CallMethodNoArgs(mb, s_pop_first);
    }
    return mailbox_pop_first((MailboxObject *)mb);
}

/* The Matcher a tagged receive waits with (made once), borrowed; NULL with
 * an error. */
static PyObject *
receive_matcher(Receive *self)
{
    if (self->matcher == NULL) {
        TagSpec *t = &self->spec;
        self->matcher = matcher_of(tagmatch_make(t->key, t->arity, t->down, t->exit));
    }
    return self->matcher;
}

/* _receive's `p.matcher = matcher; if deadline is not None:
 * node.set_receive_timer(p, deadline)`, then the yield of WAIT. */
static PySendResult
receive_wait(Receive *self, PyObject *node, PyObject **result)
{
    PyObject *matcher = Py_None;
    if (self->tagged) {
        matcher = receive_matcher(self);
        if (matcher == NULL) {
            goto error;
        }
    }
    set_slot(self->p, P_matcher, matcher);
    if (self->timed && set_receive_timer(node, self->p, self->deadline) < 0) {
        goto error;
    }
    self->state = R_WAITING;
    *result = Py_NewRef(WAIT);
    return PYGEN_NEXT;
error:
    self->state = R_DONE;
    *result = NULL;
    return PYGEN_ERROR;
}

/* mb.take(matcher) for this receive's test: the C Mailbox's take with the
 * spec, else the mailbox's own method.  A new reference (MISSING when no
 * message matches), or NULL with an error. */
static PyObject *
receive_take(Receive *self, PyObject *mb)
{
    if (Py_TYPE(mb) == &CMailboxType) {
        TagSpec *t = &self->spec;
        return mailbox_take_with((MailboxObject *)mb, NULL, t->key, t->hash, tagmatch_test, t);
    }
    PyObject *matcher = receive_matcher(self);
    return matcher == NULL ? NULL : call_method1(mb, s_take, matcher);
}

static PySendResult
receive_send(Receive *self, PyObject *arg, PyObject **result)
{
    PyObject *node = the_node;
    switch (self->state) {
    case R_FRESH: {
        if (arg != Py_None) {
            PyErr_SetString(PyExc_TypeError,
                            "can't send non-None value to a just-started coroutine");
            *result = NULL;
            return PYGEN_ERROR;
        }
        if (node == NULL || Py_TYPE(node) != NodeType) {
            goto delegate;
        }
        PyObject *p = SLOT(node, N_current);
        if (p == NULL || Py_TYPE(p) != ProcessType) {
            goto delegate; /* outside a process: _receive raises */
        }
        PyObject *state = get_slot(p, P_state), *mb = get_slot(p, P_mailbox);
        if (state == NULL || mb == NULL) {
            goto error;
        }
        if (state_is(state, DEAD)) {
            goto delegate;
        }
        Py_ssize_t queued = mb == Py_None              ? 0
                            : Py_TYPE(mb) == &CMailboxType ? ((MailboxObject *)mb)->live
                                                           : PyObject_Size(mb);
        if (queued < 0) {
            goto error;
        }
        if (queued > 0) {
            PyObject *qr_o = get_slot(node, N_quick_receives);
            if (qr_o == NULL) {
                goto error;
            }
            long qr = PyLong_AsLong(qr_o);
            if (qr == -1 && PyErr_Occurred()) {
                goto error;
            }
            if (((qr + 1) & 255) == 0) {
                goto delegate; /* the fairness yield: _receive counts this one */
            }
            PyObject *v = PyLong_FromLong(qr + 1);
            if (v == NULL) {
                goto error;
            }
            set_slot(node, N_quick_receives, v);
            Py_DECREF(v);
            PyObject *msg = self->tagged ? receive_take(self, mb) : pop_first(mb);
            if (msg == NULL) {
                goto error;
            }
            if (msg != MISSING) {
                self->state = R_DONE;
                *result = msg;
                return PYGEN_RETURN;
            }
            Py_DECREF(msg);
        }
        if (self->timed) {
            double t = PyFloat_AS_DOUBLE(self->timeout);
            if (t == 0.0) {
                self->state = R_DONE;
                PyErr_SetString(PyExc_TimeoutError, "receive: no matching message (timeout=0)");
                *result = NULL;
                return PYGEN_ERROR;
            }
            /* _n.NODE.loop.time() + timeout */
            PyObject *loop = get_slot(node, N_loop);
            if (loop == NULL) {
                goto error;
            }
            PyObject *now = loop_time(loop);
            if (now == NULL) {
                goto error;
            }
            self->deadline = PyNumber_Add(now, self->timeout);
            Py_DECREF(now);
            if (self->deadline == NULL) {
                goto error;
            }
        }
        self->p = Py_NewRef(p);
        return receive_wait(self, node, result);
    }
    case R_WAITING:
        if (arg == TIMEOUT && (self->timed || self->rescanned)) {
            self->state = R_DONE;
            Py_CLEAR(self->p);
            PyErr_Format(PyExc_TimeoutError, "receive: no matching message within %S s",
                         self->timeout == NULL ? Py_None : self->timeout);
            *result = NULL;
            return PYGEN_ERROR;
        }
        if (arg != RESCAN) {
            self->state = R_DONE;
            Py_CLEAR(self->p);
            *result = Py_NewRef(arg);
            return PYGEN_RETURN;
        }
        /* A predicate raised while a message was delivered: rescan here, in
         * the receiver's own context (_receive's loop). */
        self->rescanned = 1;
        if (self->tagged) {
            PyObject *mb = get_slot(self->p, P_mailbox);
            if (mb == NULL) {
                goto error;
            }
            if (mb != Py_None) {
                PyObject *found = receive_take(self, mb);
                if (found == NULL) {
                    goto error;
                }
                if (found != MISSING) {
                    self->state = R_DONE;
                    Py_CLEAR(self->p);
                    *result = found;
                    return PYGEN_RETURN;
                }
                Py_DECREF(found);
            }
        }
        if (node == NULL || Py_TYPE(node) != NodeType) {
            PyErr_SetString(PyExc_RuntimeError, "receive: the node went away during a wait");
            goto error;
        }
        return receive_wait(self, node, result);
    case R_DELEGATE:
        return PyIter_Send(self->inner, arg, result);
    default:
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        *result = NULL;
        return PYGEN_ERROR;
    }
delegate: {
    /* _receive(*filters, timeout=timeout), the filter being the one given */
    PyObject *args[2] = {self->filter, self->timeout};
    Py_ssize_t nargs = self->filter != NULL;
    if (self->timeout != NULL) {
        args[nargs] = self->timeout;
        PyObject *kw = PyTuple_Pack(1, s_timeout);
        if (kw == NULL) {
            goto error;
        }
        self->inner = PyObject_Vectorcall(receive_py, args, nargs, kw);
        Py_DECREF(kw);
    }
    else {
        self->inner = PyObject_Vectorcall(receive_py, args, nargs, NULL);
    }
    if (self->inner == NULL) {
        goto error;
    }
    self->state = R_DELEGATE;
    return PyIter_Send(self->inner, Py_None, result);
}
error:
    self->state = R_DONE;
    Py_CLEAR(self->p);
    *result = NULL;
    return PYGEN_ERROR;
}

static PyObject *
stop_iteration(PyObject *value)
{
    PyObject *ex = PyObject_CallOneArg(PyExc_StopIteration, value);
    Py_DECREF(value);
    if (ex != NULL) {
        PyErr_SetObject(PyExc_StopIteration, ex);
        Py_DECREF(ex);
    }
    return NULL;
}

static PyObject *
receive_iternext(Receive *self)
{
    PyObject *result;
    PySendResult s = receive_send(self, Py_None, &result);
    if (s == PYGEN_NEXT) {
        return result;
    }
    return s == PYGEN_RETURN ? stop_iteration(result) : NULL;
}

static PyObject *
receive_send_method(Receive *self, PyObject *arg)
{
    PyObject *result;
    PySendResult s = receive_send(self, arg, &result);
    if (s == PYGEN_NEXT) {
        return result;
    }
    return s == PYGEN_RETURN ? stop_iteration(result) : NULL;
}

/* throw(exc) / throw(type[, value[, tb]]): raised where the receive waits. */
static PyObject *
receive_throw(Receive *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw expected 1 to 3 arguments");
        return NULL;
    }
    if (self->state == R_DELEGATE) {
        PyObject *meth = PyObject_GetAttrString(self->inner, "throw");
        if (meth == NULL) {
            return NULL;
        }
        PyObject *r = PyObject_Vectorcall(meth, args, nargs, NULL);
        Py_DECREF(meth);
        return r;
    }
    self->state = R_DONE;
    Py_CLEAR(self->p);
    PyObject *typ = args[0], *val = nargs > 1 ? args[1] : Py_None;
    PyObject *tb = nargs > 2 ? args[2] : Py_None;
    PyObject *ex;
    if (PyExceptionInstance_Check(typ)) {
        ex = Py_NewRef(typ);
    }
    else if (PyExceptionClass_Check(typ)) {
        if (PyExceptionInstance_Check(val)) {
            ex = Py_NewRef(val);
        }
        else if (val == Py_None) {
            ex = PyObject_CallNoArgs(typ);
        }
        else {
            ex = PyObject_CallOneArg(typ, val);
        }
        if (ex == NULL) {
            return NULL;
        }
    }
    else {
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from BaseException");
        return NULL;
    }
    if (tb != Py_None) {
        PyException_SetTraceback(ex, tb);
    }
    PyErr_SetObject((PyObject *)Py_TYPE(ex), ex);
    Py_DECREF(ex);
    return NULL;
}

static PyObject *
receive_close(Receive *self, PyObject *unused)
{
    int was = self->state;
    self->state = R_DONE;
    Py_CLEAR(self->p);
    if (was == R_DELEGATE) {
        return PyObject_CallMethod(self->inner, "close", NULL);
    }
    Py_RETURN_NONE;
}

static PyObject *
receive_await(PyObject *self)
{
    return Py_NewRef(self);
}

static int
receive_traverse(Receive *self, visitproc visit, void *arg)
{
    Py_VISIT(self->p);
    Py_VISIT(self->inner);
    Py_VISIT(self->filter);
    Py_VISIT(self->timeout);
    Py_VISIT(self->spec.key);
    Py_VISIT(self->matcher);
    Py_VISIT(self->deadline);
    return 0;
}

static int
receive_clear(Receive *self)
{
    Py_CLEAR(self->p);
    Py_CLEAR(self->inner);
    Py_CLEAR(self->filter);
    Py_CLEAR(self->timeout);
    Py_CLEAR(self->spec.key);
    Py_CLEAR(self->matcher);
    Py_CLEAR(self->deadline);
    return 0;
}

/* Spare Receive objects, as CPython keeps free lists for its own small
 * objects: receive() makes one per call and its step drops it, so reusing
 * a few saves the allocator and the GC's linking and unlinking (about 130
 * instructions a receive).  A spare is untracked and cleared (every field
 * NULL), its memory owned by the list; cnode_receive re-initialises it with
 * PyObject_Init, which counts the new reference.  The GIL guards the list. */
#define RECEIVE_SPARES 16
static Receive *receive_spares[RECEIVE_SPARES];
static int n_receive_spares;

static void
receive_dealloc(Receive *self)
{
    PyObject_GC_UnTrack(self);
    receive_clear(self);
    if (n_receive_spares < RECEIVE_SPARES) {
        receive_spares[n_receive_spares++] = self;
        return;
    }
    PyObject_GC_Del(self);
}

static PyAsyncMethods receive_as_async = {
    .am_await = receive_await,
    .am_send = (sendfunc)receive_send,
};

static PyMethodDef receive_methods[] = {
    {"send", (PyCFunction)receive_send_method, METH_O, NULL},
    {"throw", (PyCFunction)(void (*)(void))receive_throw, METH_FASTCALL, NULL},
    {"close", (PyCFunction)receive_close, METH_NOARGS, NULL},
    {NULL},
};

static PyTypeObject ReceiveType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tether._runtime._cnode.Receive",
    .tp_basicsize = sizeof(Receive),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "What receive() returns: await it for the next message.",
    .tp_as_async = &receive_as_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)receive_iternext,
    .tp_methods = receive_methods,
    .tp_traverse = (traverseproc)receive_traverse,
    .tp_clear = (inquiry)receive_clear,
    .tp_dealloc = (destructor)receive_dealloc,
};

/* receive(*filters, timeout=None): a Receive for the cases it mirrors (see
 * Receive), else the Python _receive generator (their one implementation). */
static PyObject *
cnode_receive(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (receive_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_api was not called");
        return NULL;
    }
    PyObject *timeout = NULL;
    if (kwnames != NULL) {
        /* timeout=None, or a finite float >= 0: _receive's own check, inline */
        /* a call site's keyword is interned: `is` first */
        if (PyTuple_GET_SIZE(kwnames) != 1 ||
            (PyTuple_GET_ITEM(kwnames, 0) != s_timeout &&
             (!PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
              PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "timeout") != 0))) {
            goto python;
        }
        PyObject *t = args[nargs];
        if (t != Py_None) {
            if (!PyFloat_CheckExact(t)) {
                goto python;
            }
            double d = PyFloat_AS_DOUBLE(t);
            if (!(d >= 0.0 && d < Py_HUGE_VAL)) {
                goto python;
            }
            timeout = t;
        }
    }
    TagSpec spec = {NULL, -1, 0, 0, 0};
    PyObject *matcher = NULL;
    if (nargs == 1) {
        TagMatchObject *t = tagmatch_of(args[0]);
        if (t != NULL) {
            spec = t->spec; /* the Matcher holds it */
            Py_INCREF(spec.key);
            matcher = Py_NewRef(args[0]);
        }
        else if (!tag_spec(args[0], &spec)) {
            goto python;
        }
    }
    else if (nargs > 1) {
        goto python;
    }
    Receive *r;
    if (n_receive_spares > 0) {
        r = receive_spares[--n_receive_spares];
        (void)PyObject_Init((PyObject *)r, &ReceiveType);
    }
    else if ((r = PyObject_GC_New(Receive, &ReceiveType)) == NULL) {
        Py_XDECREF(spec.key);
        Py_XDECREF(matcher);
        return NULL;
    }
    r->state = R_FRESH;
    r->rescanned = 0;
    r->tagged = nargs == 1;
    r->timed = timeout != NULL;
    r->p = NULL;
    r->inner = NULL;
    r->filter = nargs == 1 ? Py_NewRef(args[0]) : NULL;
    r->timeout = Py_XNewRef(timeout);
    r->spec = spec;
    r->matcher = matcher;
    r->deadline = NULL;
    PyObject_GC_Track(r);
    return (PyObject *)r;
python:
    return PyObject_Vectorcall(receive_py, args, nargs, kwnames);
}

/* ---- set-up ------------------------------------------------------------------ */

static int
offset_of(PyObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString(cls, name);
    if (d == NULL) {
        return -1;
    }
    int ok = Py_IS_TYPE(d, &PyMemberDescr_Type);
    if (ok) {
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        ok = m->type == T_OBJECT_EX && !(m->flags & READONLY);
        *out = m->offset;
    }
    Py_DECREF(d);
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "tether native core: %R.%s is not a __slots__ slot", cls,
                     name);
        return -1;
    }
    return 0;
}

static int
get_type(const char *name, PyTypeObject **out)
{
    PyObject *t = PyDict_GetItemString(node_globals, name);
    if (t == NULL || !PyType_Check(t)) {
        PyErr_Format(PyExc_TypeError, "tether native core: _node.%s is not a class", name);
        return -1;
    }
    *out = (PyTypeObject *)Py_NewRef(t);
    return 0;
}

static int
get_obj(const char *name, PyObject **out)
{
    PyObject *o = PyDict_GetItemString(node_globals, name);
    if (o == NULL) {
        PyErr_Format(PyExc_RuntimeError, "tether native core: _node.%s is missing", name);
        return -1;
    }
    *out = Py_NewRef(o);
    return 0;
}

/* init(_node module): look everything up once, check the layout. */
static PyObject *
cnode_init(PyObject *module, PyObject *node_module)
{
    static const char *states[6] = {"RUNNABLE", "RUNNING", "WAITING",
                                    "AWAITING", "DEAD",    "SUSPENDED"};
    if (node_globals != NULL) {
        Py_RETURN_NONE;
    }
    PyObject *g = PyModule_GetDict(node_module);
    if (g == NULL) {
        return NULL;
    }
    node_globals = Py_NewRef(g);
    if (get_type("Process", &ProcessType) < 0 || get_type("Node", &NodeType) < 0 ||
        get_type("Pid", &PidType) < 0 ||
        get_obj("WAIT", &WAIT) < 0 || get_obj("RESCAN", &RESCAN) < 0 ||
        get_obj("TIMEOUT", &TIMEOUT) < 0 || get_obj("_ForceStop", &ForceStop) < 0 ||
        get_obj("_enter_task", &enter_task) < 0 || get_obj("_leave_task", &leave_task) < 0 ||
        get_obj("_reset_current_task", &reset_current_task) < 0) {
        return NULL;
    }
    /* current_tasks: only when _node's hooks are _asyncio's C functions,
     * whose table it is (anything else: the hooks are called). */
    PyObject *aio = PyImport_ImportModule("_asyncio");
    if (aio == NULL) {
        PyErr_Clear();
    }
    else {
        PyObject *e = PyObject_GetAttrString(aio, "_enter_task");
        PyObject *l = e == NULL ? NULL : PyObject_GetAttrString(aio, "_leave_task");
        PyObject *ct = l == NULL ? NULL : PyObject_GetAttrString(aio, "_current_tasks");
        PyErr_Clear();
        if (e == enter_task && l == leave_task && ct != NULL && PyDict_CheckExact(ct)) {
            current_tasks = Py_NewRef(ct);
        }
        Py_XDECREF(e);
        Py_XDECREF(l);
        Py_XDECREF(ct);
        Py_DECREF(aio);
    }
    for (int i = 0; i < 6; i++) {
        if (get_obj(states[i], &ST[i]) < 0) {
            return NULL;
        }
        if (!PyLong_CheckExact(ST[i]) || PyLong_AsLong(ST[i]) != i) {
            PyErr_Format(PyExc_ValueError, "tether native core: _node.%s is not %d", states[i], i);
            return NULL;
        }
    }
    PyObject *P = (PyObject *)ProcessType, *N = (PyObject *)NodeType;
    if (offset_of(P, "state", &P_state) < 0 || offset_of(P, "resume", &P_resume) < 0 ||
        offset_of(P, "coro", &P_coro) < 0 || offset_of(P, "reductions", &P_reductions) < 0 ||
        offset_of(P, "received", &P_received) < 0 || offset_of(P, "matcher", &P_matcher) < 0 ||
        offset_of(P, "timer", &P_timer) < 0 || offset_of(P, "mailbox", &P_mailbox) < 0 ||
        offset_of(P, "suspended", &P_suspended) < 0 || offset_of(N, "current", &N_current) < 0 ||
        offset_of(N, "runq", &N_runq) < 0 || offset_of(N, "scheduled", &N_scheduled) < 0 ||
        offset_of(N, "loop", &N_loop) < 0 || offset_of(N, "check_every", &N_check_every) < 0 ||
        offset_of(N, "busy", &N_busy) < 0 || offset_of(N, "table", &N_table) < 0 ||
        offset_of(N, "quick_receives", &N_quick_receives) < 0 ||
        offset_of(N, "idle_waiters", &N_idle_waiters) < 0 ||
        offset_of(N, "idle_check_scheduled", &N_idle_check_scheduled) < 0 ||
        offset_of(N, "run_soon", &N_run_soon) < 0) {
        return NULL;
    }
    /* Pid's _hash is written through its descriptor (Pid refuses setattr):
     * read-only checks do not apply; only the offset is needed. */
    PyObject *d = PyObject_GetAttrString((PyObject *)PidType, "_hash");
    if (d == NULL) {
        return NULL;
    }
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        Py_DECREF(d);
        PyErr_SetString(PyExc_TypeError, "tether native core: Pid._hash is not a slot");
        return NULL;
    }
    Pid_hash = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    PyObject *nd = PyObject_GetAttrString(N, "deliver");
    if (nd == NULL) {
        return NULL;
    }
    deliver_py = nd;
    Py_RETURN_NONE;
}

/* init_api(send, receive): _api's Python send and _receive, for the cases
 * the C does not take. */
static PyObject *
cnode_init_api(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "init_api(send, receive, spawn, spawn_link, spawn_monitor) takes 5 arguments");
        return NULL;
    }
    Py_XSETREF(send_py, Py_NewRef(args[0]));
    Py_XSETREF(receive_py, Py_NewRef(args[1]));
    for (int i = 0; i < 3; i++) {
        Py_XSETREF(spawn_api_py[i], Py_NewRef(args[2 + i]));
    }
    Py_RETURN_NONE;
}

/* set_node(node): _node.set_node tells the C which node runs (_node.NODE). */
static PyObject *
cnode_set_node(PyObject *module, PyObject *node)
{
    Py_XSETREF(the_node, Py_NewRef(node));
    Py_RETURN_NONE;
}

static PyObject *
cnode_in_runtime(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(runtime_depth > 0);
}

static PyObject *
cnode_as_method(PyObject *module, PyObject *fn)
{
    return PyInstanceMethod_New(fn);
}

/* ---- process lifecycle: set-up -------------------------------------------------
 *
 * The lifecycle sections below (spawn, terminate) mirror Node.spawn and
 * Node.terminate; init_lifecycle binds them once _node is imported.  Pids and
 * refs hash in C already (use_slot_hash), refs are made by new_ref. */

static PyObject *cnode_new_ref(PyObject *module, PyObject *unused); /* Ref() */

/* The offset of cls's slot `name` (read-only checks do not apply: Pid and Ref
 * write their slots through the descriptors, their setattr refuses). */
static int
member_offset(PyObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString(cls, name);
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
        PyErr_Format(PyExc_TypeError, "tether native core: %R.%s is not a __slots__ slot", cls,
                     name);
        return -1;
    }
    return 0;
}

static int init_spawn(PyObject *node_module);
static int init_terminate(void);

/* init_lifecycle(_node module): after init() and init_refs(); binds spawn and
 * terminate (init_spawn, init_terminate, below). */
static PyObject *
cnode_init_lifecycle(PyObject *module, PyObject *node_module)
{
    static int done;
    if (node_globals == NULL || RefType == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "tether native core: init() and init_refs() were not called");
        return NULL;
    }
    if (!done) {
        if (init_spawn(node_module) < 0 || init_terminate() < 0) {
            return NULL;
        }
        done = 1;
    }
    Py_RETURN_NONE;
}

/* ---- process lifecycle: spawn ------------------------------------------------
 *
 * Mirrors Node.spawn for its common case: a live parent (spawn, spawn_link,
 * spawn_monitor from a process) starting a plain `async def` function.  The
 * Pid, the Process record and the monitor's Ref are made here without running
 * their Python __init__ (a frame each, and ~30 slot stores for the Process):
 * the Process's slots are copied from a template record that init_lifecycle
 * makes with Process.__init__ itself, so the defaults have one definition,
 * the Python one.  Every other case (no parent, a dead parent, any other
 * callable, keyword arguments it does not know) is Node.spawn, the Python. */

static PyObject *spawn_py;          /* the Python Node.spawn */
/* (P_pid, P_initial_call, P_links, P_monitors, P_monitored_by: with the slot offsets) */
static Py_ssize_t N_ids, N_spawns;
static Py_ssize_t Pid_id, Pid_serial, Pid_node, Pid_creation;

/* Pid's == and != in C, mirroring Pid.__eq__ (which stays the reference, and
 * answers every other comparison): two Pids are equal when their id, serial,
 * node and creation are, compared in that order.  A pid from another node's
 * message is equal to the one in the process table without being it, so each
 * lookup of it ran __eq__'s Python frame.  Installed by init_spawn. */
static richcmpfunc pid_richcompare_py;

static PyObject *
pid_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op == Py_EQ || op == Py_NE) && Py_TYPE(a) == PidType && Py_TYPE(b) == PidType) {
        int eq = 1;
        if (a != b) {
            Py_ssize_t offs[4] = {Pid_id, Pid_serial, Pid_node, Pid_creation};
            for (int i = 0; i < 4 && eq; i++) {
                PyObject *x = SLOT(a, offs[i]), *y = SLOT(b, offs[i]);
                if (x == NULL || y == NULL) {
                    goto python; /* unset: __eq__ raises AttributeError */
                }
                eq = PyObject_RichCompareBool(x, y, Py_EQ);
                if (eq < 0) {
                    return NULL;
                }
            }
        }
        return PyBool_FromLong(op == Py_EQ ? eq : !eq);
    }
python:
    return pid_richcompare_py(a, b, op);
}
static Py_ssize_t P_nslots;
static Py_ssize_t *P_offsets;       /* every slot of Process but __weakref__ */
static PyObject **P_template;       /* their values in a fresh Process(None, None, None) */
static PyObject *s_spawn_kw[3];     /* "link", "monitor", "what" */
static PyObject *s_add;

/* Mirrors Pid(id) (serial 0, local, creation 0): the slots Pid.__init__ sets;
 * such a pid's hash is its id, the same int. */
static PyObject *
new_local_pid(PyObject *id)
{
    PyObject *pid = PidType->tp_alloc(PidType, 0);
    if (pid == NULL) {
        return NULL;
    }
    SLOT(pid, Pid_id) = Py_NewRef(id);
    SLOT(pid, Pid_serial) = Py_NewRef(int_zero);
    SLOT(pid, Pid_node) = Py_NewRef(Py_None);
    SLOT(pid, Pid_creation) = Py_NewRef(int_zero);
    SLOT(pid, Pid_hash) = Py_NewRef(id);
    return pid;
}

/* Mirrors Process(pid, coro, initial_call). */
static PyObject *
new_process(PyObject *pid, PyObject *coro, PyObject *initial_call)
{
    PyObject *p = ProcessType->tp_alloc(ProcessType, 0);
    if (p == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < P_nslots; i++) {
        SLOT(p, P_offsets[i]) = Py_XNewRef(P_template[i]);
    }
    set_slot(p, P_pid, pid);
    set_slot(p, P_coro, coro);
    set_slot(p, P_initial_call, initial_call);
    return p;
}

/* `s.add(x)` for a set slot that may be None (then {x}). */
static int
slot_set_add(PyObject *o, Py_ssize_t off, PyObject *x)
{
    PyObject *s = get_slot(o, off);
    if (s == NULL) {
        return -1;
    }
    if (s == Py_None) {
        PyObject *n = PySet_New(NULL);
        if (n == NULL || PySet_Add(n, x) < 0) {
            Py_XDECREF(n);
            return -1;
        }
        set_slot(o, off, n);
        Py_DECREF(n);
        return 0;
    }
    if (PySet_CheckExact(s)) {
        return PySet_Add(s, x);
    }
    PyObject *r = call_method1(s, s_add, x);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* `d[k] = v` for a dict slot that may be None (then {k: v}). */
static int
slot_dict_set(PyObject *o, Py_ssize_t off, PyObject *k, PyObject *v)
{
    PyObject *d = get_slot(o, off);
    if (d == NULL) {
        return -1;
    }
    if (d == Py_None) {
        PyObject *n = PyDict_New();
        if (n == NULL || PyDict_SetItem(n, k, v) < 0) {
            Py_XDECREF(n);
            return -1;
        }
        set_slot(o, off, n);
        Py_DECREF(n);
        return 0;
    }
    return PyObject_SetItem(d, k, v);
}

/* The C side of Node.spawn (the lines after the checks): pid made, coroutine
 * made; 0 (*ref: the monitor's ref, a new reference, if monitor) or -1. */
static int
spawn_record(PyObject *node, PyObject *parent, PyObject *pid, PyObject *coro, PyObject *fun,
             int link, int monitor, PyObject **ref_out)
{
    PyObject *ref = NULL;
    int rc = -1;
    PyObject *p = new_process(pid, coro, fun);
    if (p == NULL) {
        return -1;
    }
    PyObject *table = get_slot(node, N_table), *spawns = get_slot(node, N_spawns);
    PyObject *ppid = get_slot(parent, P_pid);
    if (table == NULL || spawns == NULL || ppid == NULL || table_set(table, pid, p) < 0) {
        goto error;
    }
    /* self.spawns += 1 (an int: PyNumber_Add's dispatch costs more than this) */
    int overflow = 0;
    long long count = PyLong_CheckExact(spawns) ? PyLong_AsLongLongAndOverflow(spawns, &overflow) : -1;
    PyObject *more = count >= 0 && !overflow && count < LLONG_MAX ? PyLong_FromLongLong(count + 1)
                                                                  : PyNumber_Add(spawns, int_one);
    if (more == NULL) {
        goto error;
    }
    set_slot(node, N_spawns, more);
    Py_DECREF(more);
    if (link) {
        if (slot_set_add(p, P_links, ppid) < 0 || slot_set_add(parent, P_links, pid) < 0) {
            goto error;
        }
    }
    if (monitor) {
        ref = cnode_new_ref(NULL, NULL);
        if (ref == NULL) {
            goto error;
        }
        PyObject *pair = PyTuple_Pack(2, pid, pid);
        if (pair == NULL) {
            goto error;
        }
        int rc = slot_dict_set(p, P_monitored_by, ref, ppid);
        if (rc == 0) {
            rc = slot_dict_set(parent, P_monitors, ref, pair);
        }
        Py_DECREF(pair);
        if (rc < 0) {
            goto error;
        }
    }
    if (queue(node, p) < 0) {
        goto error;
    }
    *ref_out = ref;
    ref = NULL;
    rc = 0;
error:
    Py_XDECREF(ref);
    Py_DECREF(p);
    return rc;
}

/* Node.spawn's C cases: a live parent process, an async def function and a
 * tuple of arguments.  1: spawned (*pid and, with monitor, *ref: new
 * references); 0: not one of these cases (Node.spawn, the Python, does it);
 * -1: an error. */
static int
spawn_c(PyObject *node, PyObject *parent, PyObject *fun, PyObject *fargs, int link, int monitor,
        PyObject **pid_out, PyObject **ref_out)
{
    if (Py_TYPE(node) != NodeType || Py_TYPE(parent) != ProcessType || !PyFunction_Check(fun) ||
        !PyTuple_CheckExact(fargs)) {
        return 0;
    }
    PyObject *code = PyFunction_GET_CODE(fun);
    if (!PyCode_Check(code) || !(((PyCodeObject *)code)->co_flags & CO_COROUTINE)) {
        return 0;
    }
    PyObject *state = get_slot(parent, P_state);
    if (state == NULL) {
        return -1;
    }
    if (state_is(state, DEAD)) {
        return 0; /* a dying process's spawns are dropped */
    }
    PyObject *ids = get_slot(node, N_ids);
    PyObject *id = ids == NULL ? NULL : next_count(ids, "ids");
    if (id == NULL) {
        return -1;
    }
    PyObject *pid = new_local_pid(id);
    Py_DECREF(id);
    if (pid == NULL) {
        return -1;
    }
    /* An async def function called makes a coroutine: nothing to check. */
    PyObject *coro = PyObject_Call(fun, fargs, NULL);
    if (coro == NULL) {
        Py_DECREF(pid);
        return -1;
    }
    PyObject *ref = NULL;
    int rc = spawn_record(node, parent, pid, coro, fun, link, monitor, &ref);
    Py_DECREF(coro);
    if (rc < 0) {
        Py_DECREF(pid);
        return -1;
    }
    *pid_out = pid;
    *ref_out = ref;
    return 1;
}

/* Mirrors Node.spawn(self, parent, fun, args, link=False, monitor=False,
 * what="spawn"), bound to Node as a method (as_method). */
static PyObject *
cnode_spawn(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *kw[3] = {Py_False, Py_False, NULL}; /* link, monitor, what */
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (spawn_py == NULL || nargs < 4 || nargs + nkw > 7) {
        goto python;
    }
    for (Py_ssize_t i = 4; i < nargs; i++) {
        kw[i - 4] = args[i];
    }
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int k = 0;
        while (k < 3 && name != s_spawn_kw[k]) {
            k++;
        }
        if (k == 3 || k < nargs - 4) {
            goto python; /* not interned the same, unknown, or given twice */
        }
        kw[k] = args[nargs + i];
    }
    int link = PyObject_IsTrue(kw[0]), monitor = PyObject_IsTrue(kw[1]);
    if (link < 0 || monitor < 0) {
        return NULL;
    }
    PyObject *pid = NULL, *ref = NULL;
    int rc = spawn_c(args[0], args[1], args[2], args[3], link, monitor, &pid, &ref);
    if (rc < 0) {
        return NULL;
    }
    if (rc > 0) {
        PyObject *result = PyTuple_Pack(2, pid, ref == NULL ? Py_None : ref);
        Py_DECREF(pid);
        Py_XDECREF(ref);
        return result;
    }
python:
    if (spawn_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_lifecycle was not called");
        return NULL;
    }
    return PyObject_Vectorcall(spawn_py, args, nargs, kwnames);
}

/* ---- spawn, spawn_link, spawn_monitor (the API) --------------------------- */

/* tether.spawn, spawn_link and spawn_monitor with the native core (_cnode's
 * spawn, spawn_link, spawn_monitor; node_spawn is Node.spawn's mirror).
 * Mirrors _api.spawn, spawn_link and spawn_monitor (which: 0, 1, 2) for their
 * hot case: called inside a process of the running node with an async def
 * function and no keywords, which is never the MFA form (its fun is not
 * async; _api._resolve).  Every other case, and every error, is the Python
 * function's: nothing has happened when spawn_c says it is not its case. */
static PyObject *
api_spawn(int which, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *node = the_node, *fallback = spawn_api_py[which];
    if (fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_api was not called");
        return NULL;
    }
    if (kwnames != NULL || nargs < 1 || node == NULL || Py_TYPE(node) != NodeType ||
        !PyFunction_Check(args[0])) {
        goto python;
    }
    PyObject *parent = SLOT(node, N_current);
    if (parent == NULL || Py_TYPE(parent) != ProcessType) {
        goto python; /* outside a process: the Python raises */
    }
    PyObject *fargs = PyTuple_New(nargs - 1);
    if (fargs == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(fargs, i - 1, Py_NewRef(args[i]));
    }
    PyObject *pid = NULL, *ref = NULL;
    int rc = spawn_c(node, parent, args[0], fargs, which == 1, which == 2, &pid, &ref);
    Py_DECREF(fargs);
    if (rc < 0) {
        return NULL;
    }
    if (rc == 0) {
        goto python;
    }
    if (which != 2) {
        return pid;
    }
    PyObject *result = PyTuple_Pack(2, pid, ref);
    Py_DECREF(pid);
    Py_DECREF(ref);
    return result;
python:
    return PyObject_Vectorcall(fallback, args, nargs, kwnames);
}

static PyObject *
cnode_api_spawn(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return api_spawn(0, args, nargs, kwnames);
}

static PyObject *
cnode_api_spawn_link(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames)
{
    return api_spawn(1, args, nargs, kwnames);
}

static PyObject *
cnode_api_spawn_monitor(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames)
{
    return api_spawn(2, args, nargs, kwnames);
}

/* init_spawn(_node module): the offsets, the template record, Node.spawn (the
 * Python) to fall back on.  Called by init_lifecycle. */
static int
init_spawn(PyObject *node_module)
{
    PyObject *P = (PyObject *)ProcessType, *N = (PyObject *)NodeType, *I = (PyObject *)PidType;
    if (offset_of(P, "pid", &P_pid) < 0 || offset_of(P, "initial_call", &P_initial_call) < 0 ||
        offset_of(P, "links", &P_links) < 0 || offset_of(P, "monitors", &P_monitors) < 0 ||
        offset_of(P, "monitored_by", &P_monitored_by) < 0 ||
        offset_of(N, "ids", &N_ids) < 0 || offset_of(N, "spawns", &N_spawns) < 0 ||
        member_offset(I, "id", &Pid_id) < 0 || member_offset(I, "serial", &Pid_serial) < 0 ||
        member_offset(I, "node", &Pid_node) < 0 ||
        member_offset(I, "creation", &Pid_creation) < 0) {
        return -1;
    }
    if (PidType->tp_richcompare != pid_richcompare) {
        pid_richcompare_py = PidType->tp_richcompare;
        PidType->tp_richcompare = pid_richcompare;
    }
    /* The template: Process.__init__'s own defaults; each must be immutable
     * (None, a bool, an int, a float), since every record shares it. */
    PyObject *slots = PyObject_GetAttrString(P, "__slots__");
    if (slots == NULL) {
        return -1;
    }
    PyObject *names = PySequence_Tuple(slots);
    Py_DECREF(slots);
    if (names == NULL) {
        return -1;
    }
    PyObject *tmpl = PyObject_CallFunctionObjArgs(P, Py_None, Py_None, Py_None, NULL);
    Py_ssize_t n = PyTuple_GET_SIZE(names), k = 0;
    P_offsets = PyMem_Calloc(n, sizeof(Py_ssize_t));
    P_template = PyMem_Calloc(n, sizeof(PyObject *));
    if (tmpl == NULL || P_offsets == NULL || P_template == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        const char *cname = PyUnicode_AsUTF8(name);
        if (cname == NULL) {
            goto fail;
        }
        if (strcmp(cname, "__weakref__") == 0) {
            continue;
        }
        if (offset_of(P, cname, &P_offsets[k]) < 0) {
            goto fail;
        }
        PyObject *v = SLOT(tmpl, P_offsets[k]);
        if (v != NULL && v != Py_None && !PyBool_Check(v) && !PyLong_CheckExact(v) &&
            !PyFloat_CheckExact(v)) {
            PyErr_Format(PyExc_TypeError,
                         "tether native core: Process.%s starts as %R, which records "
                         "cannot share",
                         cname, v);
            goto fail;
        }
        P_template[k++] = Py_XNewRef(v);
    }
    P_nslots = k;
    Py_DECREF(tmpl);
    Py_DECREF(names);
    spawn_py = PyObject_GetAttrString(N, "spawn");
    if (spawn_py == NULL) {
        return -1;
    }
    if (!PyFunction_Check(spawn_py)) {
        PyErr_SetString(PyExc_TypeError, "tether native core: Node.spawn is not the Python");
        Py_CLEAR(spawn_py);
        return -1;
    }
    static const char *kws[3] = {"link", "monitor", "what"};
    for (int i = 0; i < 3; i++) {
        if ((s_spawn_kw[i] = PyUnicode_InternFromString(kws[i])) == NULL) {
            return -1;
        }
    }
    if ((s_add = PyUnicode_InternFromString("add")) == NULL) {
        return -1;
    }
    return 0;
fail:
    Py_XDECREF(tmpl);
    Py_DECREF(names);
    return -1;
}

/* ---- process lifecycle: terminate ---------------------------------------------
 *
 * Mirrors Node.terminate: make a process dead now and propagate its exit
 * along its links and monitors (a work list, not recursion).  Every exit runs
 * it: a return (Node._returned, mirrored below for the native step), exit/1,
 * an exit signal.  The C takes a process the way the Python does, line for
 * line, where what it owns is local: its table entry, name, mailbox, receive
 * timeout, monitors, links, monitored_by, dictionary and aliases.  It hands a
 * process to the Python Node.terminate (which then also takes whatever that
 * one's exit propagates to) when the node is distributed (signals to other
 * nodes), or the process has timers or Task extras (done callbacks), or is
 * no Process record: the rare paths keep one implementation. */

/* terminate_py: the Python Node.terminate (declared above the step) */
/* Down and Exit as types, to allocate their records (the mailbox keeps its own
 * references to the same classes, as objects: DownType, ExitType). */
static PyTypeObject *LcDownType, *LcExitType, *PortType;
static PyObject *NORMAL_o, *PROCESS_o, *PORT_o;
static Py_ssize_t P_reason, P_name, P_timers, P_dictionary, P_aliases, P_extras, P_trap_exit,
    P_unwound;
static Py_ssize_t N_dist, N_names, N_received_by_dead, N_reductions_of_dead, N_root,
    N_root_result, N_aliases;
/* (Down_ref .. Exit_reason: the record slots, declared with the mailbox) */
/* (s_cancel_receive_timer is interned with the module's other names) */
static PyObject *s_drop_alias, *s_cancel_await, *s_root_exited, *s_discard;

/* Mirrors is_normal(reason): isinstance(reason, str) and reason == "normal". */
static int
is_normal_reason(PyObject *reason)
{
    if (reason == NORMAL_o) {
        return 1;
    }
    if (!PyUnicode_Check(reason)) {
        return 0;
    }
    return PyUnicode_CompareWithASCIIString(reason, "normal") == 0;
}

/* Mirrors Exit(pid, reason) and Down(ref, type, pid, reason): the slots their
 * __init__ sets. */
static PyObject *
new_exit(PyObject *pid, PyObject *reason)
{
    PyObject *e = LcExitType->tp_alloc(LcExitType, 0);
    if (e != NULL) {
        SLOT(e, Exit_pid) = Py_NewRef(pid);
        SLOT(e, Exit_reason) = Py_NewRef(reason);
    }
    return e;
}

static PyObject *
new_down(PyObject *ref, PyObject *type, PyObject *pid, PyObject *reason)
{
    PyObject *d = LcDownType->tp_alloc(LcDownType, 0);
    if (d != NULL) {
        SLOT(d, Down_ref) = Py_NewRef(ref);
        SLOT(d, Down_type) = Py_NewRef(type);
        SLOT(d, Down_pid) = Py_NewRef(pid);
        SLOT(d, Down_reason) = Py_NewRef(reason);
    }
    return d;
}

/* table.get(key): a new reference, NULL with no error when absent. */
static PyObject *
table_lookup(PyObject *table, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(table, key);
    return Py_XNewRef(v);
}

/* d.pop(key, None) for a dict, the result dropped. */
static int
dict_discard(PyObject *d, PyObject *key)
{
    if (PyDict_DelItem(d, key) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
            return -1;
        }
        PyErr_Clear();
    }
    return 0;
}

/* `x = x + y` on a slot (the node's totals of dead processes' counters). */
static int
slot_add(PyObject *o, Py_ssize_t off, PyObject *y)
{
    PyObject *x = get_slot(o, off);
    if (x == NULL) {
        return -1;
    }
    if (PyFloat_CheckExact(x) && PyFloat_CheckExact(y) && Py_REFCNT(x) == 1) {
        /* as inc_counter: a float only the slot holds adds in place */
        ((PyFloatObject *)x)->ob_fval += PyFloat_AS_DOUBLE(y);
        return 0;
    }
    PyObject *sum = PyNumber_Add(x, y);
    if (sum == NULL) {
        return -1;
    }
    set_slot(o, off, sum);
    Py_DECREF(sum);
    return 0;
}

static int
call_node_method(PyObject *node, PyObject *name, PyObject *p)
{
    PyObject *r = call_method1(node, name, p);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* The monitors p holds: each target forgets it (Node.terminate's
 * `if p.monitors:` for a node that is not distributed). */
static int
drop_monitors(PyObject *table, PyObject *p)
{
    PyObject *mons = get_slot(p, P_monitors);
    if (mons == NULL) {
        return -1;
    }
    Py_INCREF(mons);
    PyObject *items = PyMapping_Items(mons);
    Py_DECREF(mons);
    if (items == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *ref, *target, *obj;
        if (!PyArg_ParseTuple(item, "O(OO)", &ref, &target, &obj)) {
            Py_DECREF(items);
            return -1;
        }
        if (target == Py_None) {
            continue;
        }
        PyObject *t = table_lookup(table, target);
        if (t == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(items);
                return -1;
            }
            continue;
        }
        int rc = 0, truth = Py_TYPE(t) == ProcessType ? slot_true(t, P_monitored_by) : -2;
        if (truth == -2) {
            PyErr_SetString(PyExc_TypeError, "tether native core: a table entry is no Process");
            rc = -1;
        }
        else if (truth < 0) {
            rc = -1;
        }
        else if (truth) {
            PyObject *mb = SLOT(t, P_monitored_by);
            rc = PyDict_CheckExact(mb) ? dict_discard(mb, ref) : -1;
            if (rc < 0 && !PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "tether native core: monitored_by is no dict");
            }
        }
        Py_DECREF(t);
        if (rc < 0) {
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);
    set_slot(p, P_monitors, Py_None);
    return 0;
}

/* p's links: each partner forgets p and gets its exit signal (§1.1 rows
 * 9-14: an EXIT message if it traps, else it joins the work list unless the
 * reason is normal).  `links` is detached from p already. */
static int
signal_links(PyObject *node, PyObject *table, PyObject *pid, PyObject *links, PyObject *reason,
             PyObject *work)
{
    PyObject *it = PyObject_GetIter(links), *other;
    if (it == NULL) {
        return -1;
    }
    int normal = is_normal_reason(reason);
    while ((other = PyIter_Next(it)) != NULL) {
        PyObject *q = table_lookup(table, other);
        Py_DECREF(other);
        if (q == NULL) {
            if (PyErr_Occurred()) {
                break;
            }
            continue; /* dead; a partner on another node: not distributed */
        }
        int rc = -1;
        if (Py_TYPE(q) != ProcessType) {
            PyErr_SetString(PyExc_TypeError, "tether native core: a table entry is no Process");
            goto next;
        }
        PyObject *ql = get_slot(q, P_links);
        if (ql == NULL) {
            goto next;
        }
        if (ql != Py_None) {
            if (PySet_CheckExact(ql)) {
                if (PySet_Discard(ql, pid) < 0) {
                    goto next;
                }
            }
            else {
                PyObject *r = call_method1(ql, s_discard, pid);
                if (r == NULL) {
                    goto next;
                }
                Py_DECREF(r);
            }
        }
        int traps = slot_true(q, P_trap_exit);
        if (traps < 0) {
            goto next;
        }
        if (traps) {
            PyObject *msg = new_exit(pid, reason);
            if (msg == NULL) {
                goto next;
            }
            rc = deliver(node, q, msg);
            Py_DECREF(msg);
        }
        else if (!normal) {
            PyObject *w = PyTuple_Pack(2, q, reason);
            rc = w == NULL ? -1 : PyList_Append(work, w);
            Py_XDECREF(w);
        }
        else {
            rc = 0;
        }
    next:
        Py_DECREF(q);
        if (rc < 0) {
            break;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

/* p's monitors fire: each watcher's monitor goes (and its alias), then the
 * DOWN (fire_monitor, inlined in Node.terminate).  `mons` is detached. */
static int
fire_monitors(PyObject *node, PyObject *table, PyObject *mons, PyObject *reason)
{
    PyObject *items = PyMapping_Items(mons);
    if (items == NULL) {
        return -1;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *ref, *watcher;
        if (!PyArg_ParseTuple(item, "OO", &ref, &watcher)) {
            rc = -1;
            break;
        }
        PyObject *w = table_lookup(table, watcher);
        if (w == NULL) {
            rc = PyErr_Occurred() ? -1 : 0; /* dead; on another node: not distributed */
            continue;
        }
        rc = -1;
        PyObject *entry = NULL;
        if (Py_TYPE(w) != ProcessType) {
            PyErr_SetString(PyExc_TypeError, "tether native core: a table entry is no Process");
            goto next;
        }
        PyObject *wm = get_slot(w, P_monitors);
        if (wm == NULL) {
            goto next;
        }
        if (wm != Py_None) {
            if (!PyDict_CheckExact(wm)) {
                PyErr_SetString(PyExc_TypeError, "tether native core: monitors is no dict");
                goto next;
            }
            entry = PyDict_GetItemWithError(wm, ref);
            if (entry == NULL && PyErr_Occurred()) {
                goto next;
            }
            Py_XINCREF(entry);
            if (entry != NULL && PyDict_DelItem(wm, ref) < 0) {
                goto next;
            }
        }
        if (entry == NULL) {
            rc = 0;
            goto next;
        }
        PyObject *aliases = get_slot(w, P_aliases);
        int has = aliases == NULL ? -1 : PyObject_IsTrue(aliases);
        if (has > 0) {
            has = PySequence_Contains(aliases, ref);
            if (has > 0) {
                PyObject *r = call_method2(node, s_drop_alias, w, ref);
                if (r == NULL) {
                    goto next;
                }
                Py_DECREF(r);
            }
        }
        if (has < 0) {
            goto next;
        }
        PyObject *obj = PySequence_GetItem(entry, 1);
        if (obj == NULL) {
            goto next;
        }
        PyObject *down = new_down(ref, Py_TYPE(obj) == PortType ? PORT_o : PROCESS_o, obj, reason);
        Py_DECREF(obj);
        if (down == NULL) {
            goto next;
        }
        rc = deliver(node, w, down);
        Py_DECREF(down);
    next:
        Py_XDECREF(entry);
        Py_DECREF(w);
    }
    Py_DECREF(items);
    return rc;
}

/* One turn of Node.terminate's loop, for p with `reason`. */
static int
terminate_one(PyObject *node, PyObject *table, PyObject *p, PyObject *reason, PyObject *work)
{
    if (Py_TYPE(p) != ProcessType) {
        goto python;
    }
    PyObject *was = get_slot(p, P_state);
    if (was == NULL) {
        return -1;
    }
    if (state_is(was, DEAD)) {
        return 0; /* E-5: the first signal to take effect decides the reason */
    }
    PyObject *dist = get_slot(node, N_dist), *extras = get_slot(p, P_extras);
    int timers = slot_true(p, P_timers);
    if (dist == NULL || extras == NULL || timers < 0) {
        return -1;
    }
    if (dist != Py_None || extras != Py_None || timers) {
        goto python;
    }
    Py_INCREF(was);
    int rc = -1, k = -1;
    for (int i = 0; i < 6; i++) {
        if (state_is(was, i)) {
            k = i;
        }
    }
    PyObject *pid = get_slot(p, P_pid);
    PyObject *received = get_slot(p, P_received), *reductions = get_slot(p, P_reductions);
    if (pid == NULL || received == NULL || reductions == NULL) {
        goto done;
    }
    Py_INCREF(pid);
    set_slot(p, P_state, ST[DEAD]);
    set_slot(p, P_reason, reason);
    if (table_del(table, pid) < 0 || slot_add(node, N_received_by_dead, received) < 0 ||
        slot_add(node, N_reductions_of_dead, reductions) < 0) {
        goto done_pid;
    }
    /* E-10: the name goes before any DOWN or EXIT is sent. */
    PyObject *name = get_slot(p, P_name);
    if (name == NULL) {
        goto done_pid;
    }
    if (name != Py_None) {
        PyObject *names = get_slot(node, N_names);
        if (names == NULL || PyObject_DelItem(names, name) < 0) {
            goto done_pid;
        }
        set_slot(p, P_name, Py_None);
    }
    set_slot(p, P_mailbox, Py_None); /* S-8 */
    set_slot(p, P_matcher, Py_None);
    PyObject *timer = get_slot(p, P_timer);
    if (timer == NULL || (timer != Py_None && cancel_receive_timer(node, p) < 0)) {
        goto done_pid;
    }
    int truth = slot_true(p, P_monitors);
    if (truth < 0 || (truth && drop_monitors(table, p) < 0)) {
        goto done_pid;
    }
    /* S-3: after all of p's messages (already delivered), its EXITs and DOWNs. */
    truth = slot_true(p, P_links);
    if (truth < 0) {
        goto done_pid;
    }
    if (truth) {
        PyObject *links = Py_NewRef(SLOT(p, P_links));
        set_slot(p, P_links, Py_None);
        int r = signal_links(node, table, pid, links, reason, work);
        Py_DECREF(links);
        if (r < 0) {
            goto done_pid;
        }
    }
    truth = slot_true(p, P_monitored_by);
    if (truth < 0) {
        goto done_pid;
    }
    if (truth) {
        PyObject *mons = Py_NewRef(SLOT(p, P_monitored_by));
        set_slot(p, P_monitored_by, Py_None);
        int r = fire_monitors(node, table, mons, reason);
        Py_DECREF(mons);
        if (r < 0) {
            goto done_pid;
        }
    }
    PyObject *dict = get_slot(p, P_dictionary);
    if (dict == NULL) {
        goto done_pid;
    }
    if (dict != Py_None) {
        set_slot(p, P_dictionary, Py_None);
    }
    truth = slot_true(p, P_aliases);
    if (truth < 0) {
        goto done_pid;
    }
    if (truth) {
        PyObject *own = Py_NewRef(SLOT(p, P_aliases)), *all = get_slot(node, N_aliases);
        PyObject *it = all == NULL ? NULL : PyObject_GetIter(own), *alias;
        Py_DECREF(own);
        if (it == NULL) {
            goto done_pid;
        }
        int bad = 0;
        while (!bad && (alias = PyIter_Next(it)) != NULL) {
            bad = PyDict_CheckExact(all) ? dict_discard(all, alias) < 0 : 1;
            Py_DECREF(alias);
        }
        Py_DECREF(it);
        if (bad || PyErr_Occurred()) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "tether native core: Node.aliases is no dict");
            }
            goto done_pid;
        }
        set_slot(p, P_aliases, Py_None);
    }
    /* Unwinding (see Node.terminate and _unwind_step). */
    if (k == WAITING || k == SUSPENDED) {
        if (queue(node, p) < 0) {
            goto done_pid;
        }
    }
    else if (k == RUNNABLE) {
        set_slot(p, P_resume, Py_None); /* queued already; a message handed over is dropped */
    }
    else if (k == AWAITING) {
        if (call_node_method(node, s_cancel_await, p) < 0) {
            goto done_pid;
        }
    }
    PyObject *root = get_slot(node, N_root);
    if (root == NULL || (root == p && call_node_method(node, s_root_exited, p) < 0)) {
        goto done_pid;
    }
    rc = 0;
done_pid:
    Py_DECREF(pid);
done:
    Py_DECREF(was);
    return rc;
python: {
    PyObject *args[3] = {node, p, reason};
    PyObject *r = PyObject_Vectorcall(terminate_py, args, 3, NULL);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}
}

/* Mirrors Node.terminate(p, reason). */
static int
terminate(PyObject *node, PyObject *p, PyObject *reason)
{
    PyObject *table = get_slot(node, N_table);
    if (table == NULL) {
        return -1;
    }
    if (!PyDict_CheckExact(table)) {
        PyObject *args[3] = {node, p, reason};
        PyObject *r = PyObject_Vectorcall(terminate_py, args, 3, NULL);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    Py_INCREF(table);
    PyObject *work = PyList_New(0);
    int rc = work == NULL ? -1 : terminate_one(node, table, p, reason, work);
    while (rc == 0 && PyList_GET_SIZE(work) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(work) - 1;
        PyObject *item = Py_NewRef(PyList_GET_ITEM(work, last));
        if (PyList_SetSlice(work, last, last + 1, NULL) < 0) {
            Py_DECREF(item);
            rc = -1;
            break;
        }
        rc = terminate_one(node, table, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1), work);
        Py_DECREF(item);
    }
    Py_XDECREF(work);
    Py_DECREF(table);
    return rc;
}

static PyObject *
cnode_terminate(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || terminate_py == NULL || Py_TYPE(args[0]) != NodeType) {
        if (terminate_py == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "tether native core: init_lifecycle was not called");
            return NULL;
        }
        return PyObject_Vectorcall(terminate_py, args, nargs, NULL);
    }
    if (terminate(args[0], args[1], args[2]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Mirrors Node._returned(p, value): the native step's return path. */
static int
returned(PyObject *node, PyObject *p, PyObject *value)
{
    if (terminate_py == NULL || Py_TYPE(node) != NodeType || Py_TYPE(p) != ProcessType) {
        PyObject *r = call_method2(node, s_returned, p, value);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    set_slot(p, P_unwound, Py_True);
    PyObject *root = get_slot(node, N_root);
    if (root == NULL) {
        return -1;
    }
    if (root == p) {
        set_slot(node, N_root_result, value);
    }
    return terminate(node, p, NORMAL_o); /* E-8 */
}

/* Mirrors Node._step_ended's ProcessExit case (exit/1 not caught, E-3), run
 * as the Python runs it: inside `except BaseException as ex:`. */
static int
exited(PyObject *node, PyObject *p, PyObject *ex)
{
    PyObject *reason = PyObject_GetAttrString(ex, "reason");
    if (reason == NULL) {
        return -1;
    }
    PyObject *saved = PyErr_GetHandledException();
    PyErr_SetHandledException(ex);
    set_slot(p, P_unwound, Py_True);
    int rc = terminate(node, p, reason);
    PyErr_SetHandledException(saved);
    Py_XDECREF(saved);
    Py_DECREF(reason);
    return rc;
}

static int
get_type_of(const char *name, PyTypeObject **out)
{
    PyTypeObject *t;
    if (get_type(name, &t) < 0) {
        return -1;
    }
    *out = t;
    return 0;
}

/* init_terminate(_node module): offsets, the records' types and constants,
 * Node.terminate (the Python) to fall back on.  Called by init_lifecycle. */
static int
init_terminate(void)
{
    PyObject *P = (PyObject *)ProcessType, *N = (PyObject *)NodeType;
    if (get_type_of("Down", &LcDownType) < 0 || get_type_of("Exit", &LcExitType) < 0 ||
        get_type_of("Port", &PortType) < 0 || get_obj("NORMAL", &NORMAL_o) < 0 ||
        get_obj("PROCESS", &PROCESS_o) < 0 || get_obj("PORT", &PORT_o) < 0 ||
        get_obj("ProcessExit", &ProcessExit_t) < 0) {
        return -1;
    }
    PyObject *D = (PyObject *)LcDownType, *E = (PyObject *)LcExitType;
    if (offset_of(P, "reason", &P_reason) < 0 || offset_of(P, "name", &P_name) < 0 ||
        offset_of(P, "timers", &P_timers) < 0 || offset_of(P, "dictionary", &P_dictionary) < 0 ||
        offset_of(P, "aliases", &P_aliases) < 0 || offset_of(P, "extras", &P_extras) < 0 ||
        offset_of(P, "trap_exit", &P_trap_exit) < 0 || offset_of(P, "unwound", &P_unwound) < 0 ||
        offset_of(N, "dist", &N_dist) < 0 || offset_of(N, "names", &N_names) < 0 ||
        offset_of(N, "received_by_dead", &N_received_by_dead) < 0 ||
        offset_of(N, "reductions_of_dead", &N_reductions_of_dead) < 0 ||
        offset_of(N, "root", &N_root) < 0 || offset_of(N, "root_result", &N_root_result) < 0 ||
        offset_of(N, "aliases", &N_aliases) < 0 || member_offset(D, "ref", &Down_ref) < 0 ||
        member_offset(D, "type", &Down_type) < 0 || member_offset(D, "pid", &Down_pid) < 0 ||
        member_offset(D, "reason", &Down_reason) < 0 ||
        member_offset(E, "pid", &Exit_pid) < 0 || member_offset(E, "reason", &Exit_reason) < 0) {
        return -1;
    }
    if ((s_drop_alias = PyUnicode_InternFromString("_drop_alias")) == NULL ||
        (s_cancel_await = PyUnicode_InternFromString("_cancel_await")) == NULL ||
        (s_root_exited = PyUnicode_InternFromString("_root_exited")) == NULL ||
        (s_discard = PyUnicode_InternFromString("discard")) == NULL) {
        return -1;
    }
    terminate_py = PyObject_GetAttrString(N, "terminate");
    if (terminate_py == NULL) {
        return -1;
    }
    if (!PyFunction_Check(terminate_py)) {
        PyErr_SetString(PyExc_TypeError, "tether native core: Node.terminate is not the Python");
        Py_CLEAR(terminate_py);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(send_doc,
             "send(dest, msg)\n--\n\n"
             "Send ``msg`` to ``dest``; return ``msg`` (S-7): Elixir's ``send/2``.\n\n"
             "The native core's send; its reference and full documentation is\n"
             "``tether._runtime._api.send`` (the pure-Python core).");
PyDoc_STRVAR(spawn_doc,
             "spawn(fun, /, *args)\n--\n\n"
             "Start a new process running ``await fun(*args)``; return its pid.\n\n"
             "The native core's spawn; its reference and full documentation is\n"
             "``tether._runtime._api.spawn`` (the pure-Python core).");
PyDoc_STRVAR(spawn_link_doc,
             "spawn_link(fun, /, *args)\n--\n\n"
             "Like spawn, and link the child to the caller atomically (L-3).\n\n"
             "The native core's spawn_link; its reference and full documentation is\n"
             "``tether._runtime._api.spawn_link`` (the pure-Python core).");
PyDoc_STRVAR(spawn_monitor_doc,
             "spawn_monitor(fun, /, *args)\n--\n\n"
             "Like spawn, and monitor the child atomically; return ``(pid, ref)`` (M-14).\n\n"
             "The native core's spawn_monitor; its reference and full documentation is\n"
             "``tether._runtime._api.spawn_monitor`` (the pure-Python core).");
PyDoc_STRVAR(receive_doc,
             "receive(*filters, timeout=None)\n--\n\n"
             "Wait for a message and return it: Elixir's ``receive ... after``.\n\n"
             "The native core's receive; its reference and full documentation is\n"
             "``tether._runtime._api.receive`` (the pure-Python core).");

/* ---- the hashes of Pid, Ref and Port -------------------------------------- */

/* Mirrors Pid.__hash__, Ref.__hash__ and Port.__hash__ (_types.py), which all
 * ``return self._hash``: the value fixed when the immutable record was made.
 * As a Python method every dict or set operation on a pid or a ref runs a
 * Python frame for it (a GenServer.call hashes its ref eleven times: the
 * monitor, the alias, the reply's lookup, the demonitor); use_slot_hash(cls)
 * installs this C function as the class's hash slot instead.  The result is
 * what CPython's slot_tp_hash makes of the method's int, so every hash stays
 * the same: the int itself when it fits a Py_hash_t, else its hash; -1
 * becomes -2.  A class that later assigns __hash__ gets CPython's slot back
 * (type.__setattr__ updates the slot), so nothing can go stale. */
static Py_hash_t
slot_hash(PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    Py_ssize_t off = -1;
    /* A subclass made after use_slot_hash inherits this slot: its _hash is
     * the base's slot, at the base's offset. */
    for (PyTypeObject *b = t; b != NULL && off < 0; b = b->tp_base) {
        for (int i = 0; i < n_hashed; i++) {
            if (hashed_types[i] == b) {
                off = hashed_offsets[i];
                break;
            }
        }
    }
    PyObject *h_o = off < 0 ? NULL : SLOT(o, off);
    if (h_o == NULL) {
        PyErr_Format(PyExc_TypeError, "tether native core: %s has no hash yet", t->tp_name);
        return -1;
    }
    Py_hash_t h;
    if (PyLong_CheckExact(h_o)) {
        h = PyLong_AsSsize_t(h_o);
        if (h == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            h = PyObject_Hash(h_o);
        }
    }
    else {
        h = PyObject_Hash(h_o);
    }
    if (h == -1 && !PyErr_Occurred()) {
        h = -2;
    }
    return h;
}

/* use_slot_hash(cls): see slot_hash.  cls must define __hash__ itself and
 * hold a _hash slot; anything else is refused (a TypeError, nothing changed). */
static PyObject *
cnode_use_slot_hash(PyObject *module, PyObject *cls)
{
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "use_slot_hash: cls must be a class");
        return NULL;
    }
    PyTypeObject *t = (PyTypeObject *)cls;
    for (int i = 0; i < n_hashed; i++) {
        if (hashed_types[i] == t) {
            Py_RETURN_NONE;
        }
    }
    if (n_hashed == MAX_HASHED) {
        PyErr_SetString(PyExc_ValueError, "use_slot_hash: too many classes");
        return NULL;
    }
    /* A subclass that keeps its base's hash (TimerRef(Ref)) has neither in
     * its own dict: it reads the base's slot. */
    Py_ssize_t off = -1;
    for (int i = 0; i < n_hashed; i++) {
        if (hashed_types[i] == t->tp_base &&
            PyDict_GetItemString(t->tp_dict, "__hash__") == NULL &&
            PyDict_GetItemString(t->tp_dict, "_hash") == NULL) {
            off = hashed_offsets[i];
        }
    }
    if (off < 0) {
        PyObject *d = PyDict_GetItemString(t->tp_dict, "_hash");
        if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX ||
            PyDict_GetItemString(t->tp_dict, "__hash__") == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "use_slot_hash: %s must define __hash__ and a _hash slot, or "
                         "inherit both from a class given before",
                         t->tp_name);
            return NULL;
        }
        off = ((PyMemberDescrObject *)d)->d_member->offset;
    }
    hashed_types[n_hashed] = (PyTypeObject *)Py_NewRef(cls);
    hashed_offsets[n_hashed] = off;
    n_hashed++;
    t->tp_hash = slot_hash;
    Py_RETURN_NONE;
}

/* ---- new refs ---------------------------------------------------------------- */

/* new_ref() mirrors Ref() (_types.Ref.__init__ with no arguments): the next
 * number of _types._ref_counter, no node, creation 0, and _hash = hash(n).
 * Ref.__init__ sets its four slots through their descriptors (Ref refuses
 * setattr), four calls a ref; every monitor, alias and make_ref makes one. */
static PyObject *ref_counter;
static Py_ssize_t R_n, R_node, R_creation, R_hash;

static PyObject *
cnode_init_refs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "init_refs(Ref, counter) takes the class and its counter");
        return NULL;
    }
    PyObject *R = args[0];
    const char *names[4] = {"n", "node", "creation", "_hash"};
    Py_ssize_t *offs[4] = {&R_n, &R_node, &R_creation, &R_hash};
    for (int i = 0; i < 4; i++) {
        PyObject *d = PyDict_GetItemString(((PyTypeObject *)R)->tp_dict, names[i]);
        if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            PyErr_Format(PyExc_TypeError, "init_refs: Ref.%s is not a slot", names[i]);
            return NULL;
        }
        *offs[i] = ((PyMemberDescrObject *)d)->d_member->offset;
    }
    Py_XSETREF(RefType, (PyTypeObject *)Py_NewRef(R));
    Py_XSETREF(ref_counter, Py_NewRef(args[1]));
    Py_RETURN_NONE;
}

static PyObject *
cnode_new_ref(PyObject *module, PyObject *unused)
{
    if (RefType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_refs was not called");
        return NULL;
    }
    PyObject *n = PyIter_Next(ref_counter);
    if (n == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "tether native core: the ref counter ended");
        }
        return NULL;
    }
    Py_hash_t h = PyObject_Hash(n);
    /* hash(n) is n itself below 2**61 - 1: the same int object serves as
     * both slots (one allocation less per ref) */
    Py_ssize_t v = h != -1 && PyLong_CheckExact(n) ? PyLong_AsSsize_t(n) : -1;
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear(); /* past Py_ssize_t: hash(n) is not n */
    }
    PyObject *h_o = h == -1 ? NULL : v == h ? Py_NewRef(n) : PyLong_FromSsize_t(h);
    if (h_o == NULL) {
        Py_DECREF(n);
        return NULL;
    }
    PyObject *r = RefType->tp_alloc(RefType, 0);
    if (r == NULL) {
        Py_DECREF(n);
        Py_DECREF(h_o);
        return NULL;
    }
    SLOT(r, R_n) = n; /* the references made above move in */
    SLOT(r, R_node) = Py_NewRef(Py_None);
    SLOT(r, R_creation) = Py_NewRef(int_zero);
    SLOT(r, R_hash) = h_o;
    return r;
}

/* make_ref() mirrors _api.make_ref: new_ref(), and the receive marker of the
 * calling process's mailbox (S-5). */
static PyObject *s_mark;

static PyObject *
cnode_make_ref(PyObject *module, PyObject *unused)
{
    PyObject *ref = cnode_new_ref(module, NULL);
    PyObject *node = the_node;
    if (ref == NULL || node == NULL || Py_TYPE(node) != NodeType) {
        return ref;
    }
    PyObject *p = SLOT(node, N_current);
    PyObject *mb = p != NULL && Py_TYPE(p) == ProcessType ? SLOT(p, P_mailbox) : NULL;
    if (mb == NULL || mb == Py_None) {
        return ref;
    }
    if (Py_TYPE(mb) == &CMailboxType) {
        mailbox_mark((MailboxObject *)mb, ref);
        return ref;
    }
    PyObject *r = call_method1(mb, s_mark, ref);
    if (r == NULL) {
        Py_DECREF(ref);
        return NULL;
    }
    Py_DECREF(r);
    return ref;
}

/* ---- a call's bookkeeping: monitor, alias, receive timeout ------------------ */

/* What every GenServer.call does besides the send and the receive, in C:
 * _api.call_monitor (the monitor that is also the reply alias, M-16),
 * _api.call_demonitor (M-5/M-6/M-7 with the flush), Node.send_alias (the
 * reply), Node.set_receive_timer / cancel_receive_timer (the 5 s default
 * timeout) and the loop's clock.  Each mirrors its Python function (the
 * reference) for the common case and calls that function for the rest: a
 * dead caller or target, a remote one, a distributed node, a timeout that
 * arms the asyncio timer, a heap that needs compacting.  init_calls sets
 * them up; until it has run, every one of them is its Python function. */

static int calls_ready;
static PyObject *call_monitor_py, *call_demonitor_py, *heappush, *monotonic_fn, *base_loop_time;
static Py_ssize_t N_deadlines, N_deadline_seqs, N_live_deadlines, N_deadline_at;
static PyObject *cnode_new_ref(PyObject *module, PyObject *unused);

/* loop.time(): time.monotonic() itself when loop.time is asyncio's
 * BaseEventLoop.time (which returns exactly that), else the loop's own
 * method (a virtual clock's, say).  A new reference, or NULL with an error. */
static PyObject *
loop_time(PyObject *loop)
{
    /* The common case without making the bound method: the class's time is
     * BaseEventLoop.time and the instance does not override it.  The value
     * is time.monotonic()'s, on Linux computed the way CPython does
     * (_PyTime_AsSecondsDouble of CLOCK_MONOTONIC's nanoseconds). */
    if (calls_ready && _PyType_Lookup(Py_TYPE(loop), s_time) == base_loop_time) {
        PyObject *dict = PyObject_GenericGetDict(loop, NULL);
        int own = -1;
        if (dict != NULL && PyDict_CheckExact(dict)) {
            own = PyDict_Contains(dict, s_time);
        }
        Py_XDECREF(dict);
        if (own == 0) {
#ifdef __linux__
            /* time.monotonic() is CLOCK_MONOTONIC on Linux only */
            struct timespec ts;
            if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
                long long ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
                return PyFloat_FromDouble((double)ns / 1e9);
            }
#else
            return PyObject_CallNoArgs(monotonic_fn);
#endif
        }
        PyErr_Clear(); /* no __dict__, or no clock: the general way */
    }
    PyObject *m = PyObject_GetAttr(loop, s_time);
    if (m == NULL) {
        return NULL;
    }
    PyObject *now;
    if (calls_ready && PyMethod_Check(m) && PyMethod_GET_FUNCTION(m) == base_loop_time &&
        PyMethod_GET_SELF(m) == loop) {
        now = PyObject_CallNoArgs(monotonic_fn);
    }
    else {
        runtime_depth++; /* asyncio's Python code, run as part of the runtime */
        now = PyObject_CallNoArgs(m);
        runtime_depth--;
    }
    Py_DECREF(m);
    return now;
}

/* d.pop(key, None), hash being key's hash: *out a new reference or NULL
 * (absent); 0 or -1.  (A ref's hash is a Python-level slot read: a call's
 * bookkeeping hashes its ref once, not once per table.) */
static int
dict_pop(PyObject *d, PyObject *key, Py_hash_t hash, PyObject **out)
{
    *out = NULL;
    if (!PyDict_Check(d)) {
        PyErr_Format(PyExc_TypeError, "tether native core: a dict was expected, got %R", d);
        return -1;
    }
    PyObject *v = DICT_GET_KH(d, key, hash);
    if (v == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(v);
    if (DICT_DEL_KH(d, key, hash) < 0) {
        Py_DECREF(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* An int slot plus delta (live_deadlines += 1); 0 or -1. */
static int
slot_add_long(PyObject *o, Py_ssize_t off, long delta, long *out)
{
    PyObject *v = get_slot(o, off);
    if (v == NULL) {
        return -1;
    }
    long n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *w = PyLong_FromLong(n + delta);
    if (w == NULL) {
        return -1;
    }
    set_slot(o, off, w);
    Py_DECREF(w);
    *out = n + delta;
    return 0;
}

/* Mirrors Node.set_receive_timer(p, deadline); the arming of the asyncio
 * timer (a deadline earlier than the armed one) is the Python method. */
static int
set_receive_timer(PyObject *node, PyObject *p, PyObject *deadline)
{
    PyObject *at = calls_ready ? get_slot(node, N_deadline_at) : NULL;
    if (at == NULL || !PyFloat_CheckExact(at) || !PyFloat_CheckExact(deadline) ||
        PyFloat_AS_DOUBLE(deadline) < PyFloat_AS_DOUBLE(at)) {
        PyErr_Clear();
        PyObject *r = call_method2(node, s_set_receive_timer, p, deadline);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
        return 0;
    }
    PyObject *seqs = get_slot(node, N_deadline_seqs), *heap = get_slot(node, N_deadlines);
    if (seqs == NULL || heap == NULL) {
        return -1;
    }
    PyObject *seq = next_count(seqs, "deadline_seqs");
    if (seq == NULL) {
        return -1;
    }
    PyObject *e = PyList_New(3);
    if (e == NULL) {
        Py_DECREF(seq);
        return -1;
    }
    PyList_SET_ITEM(e, 0, Py_NewRef(deadline));
    PyList_SET_ITEM(e, 1, seq);
    PyList_SET_ITEM(e, 2, Py_NewRef(p));
    PyObject *args[2] = {heap, e};
    PyObject *r = PyObject_Vectorcall(heappush, args, 2, NULL);
    if (r == NULL) {
        Py_DECREF(e);
        return -1;
    }
    Py_DECREF(r);
    set_slot(p, P_timer, e);
    Py_DECREF(e);
    long live;
    return slot_add_long(node, N_live_deadlines, 1, &live);
}

/* Mirrors Node.cancel_receive_timer(p) (p.timer is an entry); the heap's
 * compaction is the Python method. */
static int
cancel_receive_timer(PyObject *node, PyObject *p)
{
    PyObject *e = get_slot(p, P_timer);
    if (e == NULL) {
        return -1;
    }
    PyObject *heap = calls_ready ? get_slot(node, N_deadlines) : NULL;
    PyObject *live_o = calls_ready ? get_slot(node, N_live_deadlines) : NULL;
    long live = live_o == NULL || !PyLong_CheckExact(live_o) ? -1 : PyLong_AsLong(live_o);
    if (heap == NULL || !PyList_CheckExact(heap) || !PyList_CheckExact(e) ||
        PyList_GET_SIZE(e) != 3 || live < 1 ||
        (live > 1 && PyList_GET_SIZE(heap) > 2 * (live - 1) + 64)) {
        PyErr_Clear();
        return call_node_method(node, s_cancel_receive_timer, p);
    }
    Py_INCREF(e);
    set_slot(p, P_timer, Py_None);
    PyObject *old = PyList_GET_ITEM(e, 2);
    PyList_SET_ITEM(e, 2, Py_NewRef(Py_None));
    Py_DECREF(old);
    Py_DECREF(e);
    if (slot_add_long(node, N_live_deadlines, -1, &live) < 0) {
        return -1;
    }
    if (live == 0) {
        /* the asyncio timer stays armed (see the Python method) */
        return PyList_SetSlice(heap, 0, PyList_GET_SIZE(heap), NULL);
    }
    return 0;
}

/* Mirrors Node.send_alias(ref, msg) for an active alias: the reply to a
 * call (a reply alias is dropped as it is used) delivered to its owner; an
 * inactive one (dropped, or sent on to another node) is the Python method. */
static int
send_alias(PyObject *node, PyObject *ref, PyObject *msg)
{
    PyObject *aliases = calls_ready ? get_slot(node, N_aliases) : NULL;
    PyObject *entry = aliases != NULL && PyDict_CheckExact(aliases)
                          ? PyDict_GetItemWithError(aliases, ref)
                          : NULL;
    if (entry == NULL || !PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2 ||
        Py_TYPE(PyTuple_GET_ITEM(entry, 0)) != ProcessType) {
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *r = call_method2(node, s_send_alias, ref, msg);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
        return 0;
    }
    PyObject *owner = Py_NewRef(PyTuple_GET_ITEM(entry, 0));
    int reply = PyObject_IsTrue(PyTuple_GET_ITEM(entry, 1));
    int rc = reply < 0 ? -1 : 0;
    if (reply > 0) {
        rc = PyDict_DelItem(aliases, ref);
        PyObject *owned = rc < 0 ? NULL : get_slot(owner, P_aliases);
        if (owned == NULL) {
            rc = -1;
        }
        else if (owned != Py_None && PySet_Discard(owned, ref) < 0) {
            rc = -1;
        }
    }
    if (rc == 0) {
        rc = deliver(node, owner, msg);
    }
    Py_DECREF(owner);
    return rc;
}

/* a dict slot: the dict (borrowed), made if it is None; NULL with an error */
static PyObject *
dict_slot(PyObject *o, Py_ssize_t off)
{
    PyObject *d = get_slot(o, off);
    if (d == NULL || d != Py_None) {
        return d;
    }
    d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    set_slot(o, off, d);
    Py_DECREF(d);
    return d;
}

/* call_monitor(pid, what): mirrors _api.call_monitor. */
static PyObject *
cnode_call_monitor(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *node = the_node;
    if (!calls_ready || nargs != 2 || node == NULL || Py_TYPE(node) != NodeType ||
        Py_TYPE(args[0]) != PidType) {
        goto python;
    }
    PyObject *pid = args[0], *p = SLOT(node, N_current), *table = SLOT(node, N_table);
    if (p == NULL || table == NULL || Py_TYPE(p) != ProcessType) {
        goto python; /* outside a process: the Python function raises */
    }
    PyObject *t = table_get(table, pid);
    if (t == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (t == p) {
        Py_RETURN_NONE; /* calling_self */
    }
    PyObject *state = get_slot(p, P_state);
    if (state == NULL) {
        return NULL;
    }
    if (t == NULL || state_is(state, DEAD) || Py_TYPE(t) != ProcessType) {
        goto python; /* a dead caller, a dead or remote target: monitor_pid */
    }
    Py_INCREF(t);
    PyObject *my_pid = get_slot(p, P_pid);
    PyObject *ref = my_pid == NULL ? NULL : cnode_new_ref(NULL, NULL);
    Py_hash_t h = ref == NULL ? -1 : PyObject_Hash(ref); /* once for the three tables */
    PyObject *aliases = h == -1 ? NULL : get_slot(node, N_aliases);
    PyObject *entry = aliases == NULL ? NULL : PyTuple_Pack(2, p, Py_False);
    PyObject *target = entry == NULL ? NULL : PyTuple_Pack(2, pid, pid);
    PyObject *result = target == NULL ? NULL : PyTuple_Pack(2, my_pid, ref);
    int ok = result != NULL && DICT_SET_KH(aliases, ref, entry, h) == 0;
    if (ok) {
        PyObject *owned = get_slot(p, P_aliases);
        if (owned == Py_None) {
            owned = PySet_New(NULL);
            ok = owned != NULL && PySet_Add(owned, ref) == 0;
            if (ok) {
                set_slot(p, P_aliases, owned);
            }
            Py_XDECREF(owned);
        }
        else {
            ok = owned != NULL && PySet_Add(owned, ref) == 0;
        }
    }
    PyObject *d;
    /* (the known-hash calls refuse a non-dict with SystemError, as
     * PyDict_SetItem does) */
    ok = ok && (d = dict_slot(p, P_monitors)) != NULL && DICT_SET_KH(d, ref, target, h) == 0;
    ok = ok && (d = dict_slot(t, P_monitored_by)) != NULL && DICT_SET_KH(d, ref, my_pid, h) == 0;
    Py_DECREF(t);
    Py_XDECREF(ref);
    Py_XDECREF(entry);
    Py_XDECREF(target);
    if (!ok) {
        Py_XDECREF(result);
        return NULL;
    }
    return result;
python:
    if (call_monitor_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_calls was not called");
        return NULL;
    }
    return PyObject_Vectorcall(call_monitor_py, args, nargs, NULL);
}

/* call_demonitor(ref, what): mirrors _api.call_demonitor (Node.demonitor
 * inline for a node that is not distributed, then the flush of ref's DOWN). */
static PyObject *
cnode_call_demonitor(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *node = the_node;
    if (!calls_ready || nargs != 2 || node == NULL || Py_TYPE(node) != NodeType ||
        Py_TYPE(args[0]) != RefType) {
        goto python;
    }
    PyObject *ref = args[0], *p = SLOT(node, N_current), *dist = SLOT(node, N_dist);
    if (p == NULL || dist != Py_None || Py_TYPE(p) != ProcessType) {
        goto python; /* outside a process (it raises), or distributed */
    }
    Py_hash_t h = PyObject_Hash(ref);
    if (h == -1) {
        return NULL;
    }
    /* Node.demonitor(p, ref) */
    PyObject *owned = get_slot(p, P_aliases);
    if (owned == NULL) {
        return NULL;
    }
    if (owned != Py_None && (!PyAnySet_Check(owned) || PySet_GET_SIZE(owned) > 0)) {
        int has = PySet_Contains(owned, ref);
        if (has < 0) {
            return NULL;
        }
        if (has) {
            PyObject *aliases = get_slot(node, N_aliases);
            if (aliases == NULL) {
                return NULL;
            }
            PyObject *gone = NULL;
            if (dict_pop(aliases, ref, h, &gone) < 0 || PySet_Discard(owned, ref) < 0) {
                Py_XDECREF(gone);
                return NULL;
            }
            Py_XDECREF(gone);
        }
    }
    PyObject *monitors = get_slot(p, P_monitors);
    if (monitors == NULL) {
        return NULL;
    }
    if (monitors != Py_None) {
        PyObject *entry = NULL;
        if (dict_pop(monitors, ref, h, &entry) < 0) {
            return NULL;
        }
        if (entry != NULL) {
            PyObject *target = PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 2
                                   ? PyTuple_GET_ITEM(entry, 0)
                                   : NULL;
            if (target == NULL) {
                Py_DECREF(entry);
                PyErr_SetString(PyExc_RuntimeError, "call_demonitor: a monitor entry is no pair");
                return NULL;
            }
            if (target != Py_None) {
                PyObject *table = get_slot(node, N_table);
                PyObject *t = table == NULL ? NULL : PyDict_GetItemWithError(table, target);
                if (t == NULL && PyErr_Occurred()) {
                    Py_DECREF(entry);
                    return NULL;
                }
                PyObject *by = t == NULL ? Py_None : get_slot(t, P_monitored_by);
                PyObject *gone = NULL;
                if (by == NULL || (by != Py_None && dict_pop(by, ref, h, &gone) < 0)) {
                    Py_DECREF(entry);
                    return NULL;
                }
                Py_XDECREF(gone);
            }
            Py_DECREF(entry);
        }
    }
    /* the flush: mb.take(down_matcher(ref)) */
    PyObject *mb = get_slot(p, P_mailbox);
    if (mb == NULL) {
        return NULL;
    }
    if (mb != Py_None && Py_TYPE(mb) == &CMailboxType && ((MailboxObject *)mb)->live > 0) {
        TagSpec spec = {ref, h, 0, 1, 0};
        PyObject *r = mailbox_take_with((MailboxObject *)mb, NULL, ref, h, tagmatch_test, &spec);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
    }
    else if (mb != Py_None && Py_TYPE(mb) != &CMailboxType) {
        goto python_flush;
    }
    Py_RETURN_NONE;
python_flush: {
    PyObject *m = matcher_of(tagmatch_make(ref, 0, 1, 0));
    PyObject *r = m == NULL ? NULL : call_method1(mb, s_take, m);
    Py_XDECREF(m);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}
python:
    if (call_demonitor_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_calls was not called");
        return NULL;
    }
    return PyObject_Vectorcall(call_demonitor_py, args, nargs, NULL);
}

/* init_calls(call_monitor, call_demonitor, BaseEventLoop.time): the Python
 * functions the C versions fall back to, asyncio's clock method (see
 * loop_time); after init_lifecycle. */
static PyObject *
cnode_init_calls(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "init_calls(call_monitor, call_demonitor, loop_time) takes 3 arguments");
        return NULL;
    }
    if (LcExitType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tether native core: init_lifecycle was not called");
        return NULL;
    }
    PyObject *N = (PyObject *)NodeType;
    if (offset_of(N, "deadlines", &N_deadlines) < 0 ||
        offset_of(N, "deadline_seqs", &N_deadline_seqs) < 0 ||
        offset_of(N, "live_deadlines", &N_live_deadlines) < 0 ||
        offset_of(N, "deadline_at", &N_deadline_at) < 0) {
        return NULL;
    }
    PyObject *hq = PyImport_ImportModule("heapq");
    PyObject *tm = hq == NULL ? NULL : PyImport_ImportModule("time");
    PyObject *push = tm == NULL ? NULL : PyObject_GetAttrString(hq, "heappush");
    PyObject *mono = push == NULL ? NULL : PyObject_GetAttrString(tm, "monotonic");
    Py_XDECREF(hq);
    Py_XDECREF(tm);
    if (mono == NULL) {
        Py_XDECREF(push);
        return NULL;
    }
    Py_XSETREF(heappush, push);
    Py_XSETREF(monotonic_fn, mono);
    Py_XSETREF(call_monitor_py, Py_NewRef(args[0]));
    Py_XSETREF(call_demonitor_py, Py_NewRef(args[1]));
    Py_XSETREF(base_loop_time, Py_NewRef(args[2]));
    calls_ready = 1;
    Py_RETURN_NONE;
}

static PyMethodDef cnode_methods[] = {
    {"init", cnode_init, METH_O, "init(node_module): bind the core to tether._runtime._node."},
    {"init_api", (PyCFunction)(void (*)(void))cnode_init_api, METH_FASTCALL,
     "init_api(send, receive, spawn, spawn_link, spawn_monitor): the Python functions to "
     "fall back on."},
    {"run", cnode_run, METH_O, "run(node): one scheduler turn (mirrors Node.run)."},
    {"deliver", (PyCFunction)(void (*)(void))cnode_deliver, METH_FASTCALL,
     "deliver(node, p, msg): mirrors Node.deliver."},
    {"send", (PyCFunction)(void (*)(void))cnode_send, METH_FASTCALL | METH_KEYWORDS, send_doc},
    /* named as the public functions they are (tether.spawn, ...) */
    {"spawn", (PyCFunction)(void (*)(void))cnode_api_spawn, METH_FASTCALL | METH_KEYWORDS,
     spawn_doc},
    {"spawn_link", (PyCFunction)(void (*)(void))cnode_api_spawn_link,
     METH_FASTCALL | METH_KEYWORDS, spawn_link_doc},
    {"spawn_monitor", (PyCFunction)(void (*)(void))cnode_api_spawn_monitor,
     METH_FASTCALL | METH_KEYWORDS, spawn_monitor_doc},
    {"receive", (PyCFunction)(void (*)(void))cnode_receive, METH_FASTCALL | METH_KEYWORDS,
     receive_doc},
    {"init_mailbox", (PyCFunction)(void (*)(void))cnode_init_mailbox, METH_FASTCALL,
     "init_mailbox(MISSING, Down, Exit, ANY, _Record, Matcher): _mailbox's objects the "
     "Mailbox and receive use."},
    {"tag_matcher", (PyCFunction)(void (*)(void))cnode_tag_matcher, METH_FASTCALL,
     "tag_matcher(key, arity, down, exit): a Matcher whose match is TagMatch(key, arity, "
     "down, exit) and whose keys are {key}."},
    {"call_monitor", (PyCFunction)(void (*)(void))cnode_call_monitor, METH_FASTCALL,
     "call_monitor(pid, what): mirrors _api.call_monitor."},
    {"call_demonitor", (PyCFunction)(void (*)(void))cnode_call_demonitor, METH_FASTCALL,
     "call_demonitor(ref, what): mirrors _api.call_demonitor."},
    {"init_calls", (PyCFunction)(void (*)(void))cnode_init_calls, METH_FASTCALL,
     "init_calls(call_monitor, call_demonitor, loop_time): the Python functions the C "
     "call_monitor and call_demonitor fall back to, and asyncio's BaseEventLoop.time."},
    {"reply_matcher", cnode_reply_matcher, METH_O,
     "reply_matcher(ref): mirrors _mailbox.reply_matcher: the reply (ref, x) or ref's DOWN."},
    {"down_matcher", cnode_down_matcher, METH_O,
     "down_matcher(ref): mirrors _mailbox.down_matcher: ref's DOWN."},
    {"set_node", cnode_set_node, METH_O, "set_node(node): mirrors _node.set_node."},
    {"init_refs", (PyCFunction)(void (*)(void))cnode_init_refs, METH_FASTCALL,
     "init_refs(Ref, counter): the class and the counter new_ref uses."},
    {"new_ref", cnode_new_ref, METH_NOARGS,
     "new_ref($module, /)\n--\n\nReturn a new unique reference (``Ref()``)."},
    {"make_ref", cnode_make_ref, METH_NOARGS,
     "make_ref($module, /)\n--\n\nReturn a new unique reference: Elixir's ``make_ref/0``.\n\n"
     "The native core's make_ref; its reference and full documentation is\n"
     "``tether._runtime._api.make_ref`` (the pure-Python core)."},
    {"use_slot_hash", cnode_use_slot_hash, METH_O,
     "use_slot_hash(cls): cls's hash in C (mirrors __hash__: return self._hash)."},
    {"in_runtime", cnode_in_runtime, METH_NOARGS,
     "in_runtime(): whether the C core is running runtime code (see in_process_code)."},
    {"node_spawn", (PyCFunction)(void (*)(void))cnode_spawn, METH_FASTCALL | METH_KEYWORDS,
     "node_spawn(node, parent, fun, args, link=False, monitor=False, what='spawn'): mirrors "
     "Node.spawn."},
    {"terminate", (PyCFunction)(void (*)(void))cnode_terminate, METH_FASTCALL,
     "terminate(node, p, reason): mirrors Node.terminate."},
    {"init_lifecycle", cnode_init_lifecycle, METH_O,
     "init_lifecycle(node_module): bind spawn and terminate (see _cnode.c)."},
    {"as_method", cnode_as_method, METH_O,
     "as_method(fn): fn as a class attribute that binds like a method."},
    {NULL},
};

static struct PyModuleDef cnode_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tether._runtime._cnode",
    .m_doc = "tether's native core: the scheduler's hot paths in C (see _cnode.c).",
    .m_size = -1,
    .m_methods = cnode_methods,
};

#define INTERN(var, text)                                                                 \
    if ((var = PyUnicode_InternFromString(text)) == NULL) {                               \
        return NULL;                                                                      \
    }

PyMODINIT_FUNC
PyInit__cnode(void)
{
    if (PyType_Ready(&ReceiveType) < 0 || PyType_Ready(&CMailboxType) < 0 ||
        PyType_Ready(&RunQueueType) < 0 ||
        PyType_Ready(&BucketType) < 0 || PyType_Ready(&TagMatchType) < 0) {
        return NULL;
    }
    INTERN(s_ref, "ref");
    INTERN(s_pid, "pid");
    INTERN(s_keys, "keys");
    INTERN(s_match, "match");
    INTERN(s_step, "step");
    INTERN(s_step_ended, "_step_ended");
    INTERN(s_returned, "_returned");
    INTERN(s_dead_yield, "_dead_yield");
    INTERN(s_awaits, "_awaits");
    INTERN(s_hand_over, "_hand_over");
    INTERN(s_enqueue, "_enqueue");
    INTERN(s_put, "put");
    INTERN(s_take, "take");
    INTERN(s_time, "time");
    INTERN(s_timeout, "timeout");
    INTERN(s_set_receive_timer, "set_receive_timer");
    INTERN(s_send_alias, "send_alias");
    INTERN(s_send, "send");
    INTERN(s_mark, "mark");
    INTERN(s_needs_context, "needs_context");
    INTERN(s_wake_for_rescan, "_wake_for_rescan");
    INTERN(s_cancel_receive_timer, "cancel_receive_timer");
    INTERN(s_pop_first, "pop_first");
    INTERN(s_append, "append");
    INTERN(s_popleft, "popleft");
    INTERN(s_call_soon, "call_soon");
    INTERN(s_idle_check, "_idle_check");
    INTERN(s_step_failed, "_step_failed");
    INTERN(s_SLICE, "SLICE");
    INTERN(s_BUDGET, "BUDGET");
    INTERN(s_CHECK_EVERY, "_CHECK_EVERY");
    if ((float_one = PyFloat_FromDouble(1.0)) == NULL || (int_zero = PyLong_FromLong(0)) == NULL ||
        (int_one = PyLong_FromLong(1)) == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&cnode_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Receive", (PyObject *)&ReceiveType) < 0 ||
        PyModule_AddObjectRef(m, "Mailbox", (PyObject *)&CMailboxType) < 0 ||
        PyModule_AddObjectRef(m, "RunQueue", (PyObject *)&RunQueueType) < 0 ||
        PyModule_AddObjectRef(m, "TagMatch", (PyObject *)&TagMatchType) < 0 ||
        PyModule_AddIntConstant(m, "INDEX_THRESHOLD", INDEX_THRESHOLD) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
