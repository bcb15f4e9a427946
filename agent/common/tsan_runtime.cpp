// Linked into every executable of a -DAUDITSHIP_SANITIZE=thread build, and only there (see
// CMakeLists.txt).
//
// clang 14's ThreadSanitizer intercepts pthreads but not the C11 thread API of glibc >= 2.34,
// which librdkafka uses for its threads, mutexes and condition variables. Its threads then
// start without TSan state and crash (SEGV near address 0) the first time they run
// instrumented code — our delivery, error and log callbacks — and its locks are invisible, so
// every access librdkafka guards with them is reported as a race. Defining the C11 calls here
// interposes glibc's (librdkafka imports them; the executable's definitions win) and routes
// them through the intercepted pthread calls. glibc's C11 types wrap the pthread ones.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>

namespace {

struct Start {
  thrd_start_t fn;
  void* arg;
};

void* trampoline(void* p) {
  const Start s = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(s.fn(s.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  auto* start = new Start{fn, arg};
  const int rc = ::pthread_create(reinterpret_cast<pthread_t*>(thr), nullptr, trampoline, start);
  if (rc == 0) return thrd_success;
  delete start;
  return rc == EAGAIN ? thrd_nomem : thrd_error;
}

extern "C" int thrd_join(thrd_t thr, int* res) {
  void* out = nullptr;
  if (::pthread_join(thr, &out) != 0) return thrd_error;
  if (res) *res = static_cast<int>(reinterpret_cast<std::intptr_t>(out));
  return thrd_success;
}

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t) && sizeof(cnd_t) == sizeof(pthread_cond_t) &&
              sizeof(once_flag) == sizeof(pthread_once_t));

namespace {
pthread_mutex_t* pm(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* pc(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }
int result(int rc) { return rc == 0 ? thrd_success : rc == ETIMEDOUT ? thrd_timedout : rc == EBUSY ? thrd_busy : thrd_error; }
}  // namespace

extern "C" int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  ::pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int rc = ::pthread_mutex_init(pm(m), &attr);
  ::pthread_mutexattr_destroy(&attr);
  return result(rc);
}
extern "C" int mtx_lock(mtx_t* m) { return result(::pthread_mutex_lock(pm(m))); }
extern "C" int mtx_trylock(mtx_t* m) { return result(::pthread_mutex_trylock(pm(m))); }
extern "C" int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return result(::pthread_mutex_timedlock(pm(m), ts));
}
extern "C" int mtx_unlock(mtx_t* m) { return result(::pthread_mutex_unlock(pm(m))); }
extern "C" void mtx_destroy(mtx_t* m) { ::pthread_mutex_destroy(pm(m)); }

extern "C" int cnd_init(cnd_t* c) { return result(::pthread_cond_init(pc(c), nullptr)); }
extern "C" int cnd_signal(cnd_t* c) { return result(::pthread_cond_signal(pc(c))); }
extern "C" int cnd_broadcast(cnd_t* c) { return result(::pthread_cond_broadcast(pc(c))); }
extern "C" int cnd_wait(cnd_t* c, mtx_t* m) { return result(::pthread_cond_wait(pc(c), pm(m))); }
extern "C" int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return result(::pthread_cond_timedwait(pc(c), pm(m), ts));
}
extern "C" void cnd_destroy(cnd_t* c) { ::pthread_cond_destroy(pc(c)); }

extern "C" void call_once(once_flag* flag, void (*fn)(void)) {
  ::pthread_once(reinterpret_cast<pthread_once_t*>(flag), fn);
}

extern "C" int thrd_detach(thrd_t thr) { return ::pthread_detach(thr) == 0 ? thrd_success : thrd_error; }

// librdkafka itself is not built with TSan: its reference counts and flags are C11 atomics TSan
// cannot see, so its own teardown (e.g. a broker thread's last read-lock of a handle the main
// rdkafka thread then destroys) is reported as a race inside the library. Reports with a frame
// in librdkafka are suppressed; races in our code, including our callbacks it runs, are not.
extern "C" const char* __tsan_default_suppressions() { return "race:librdkafka.so.1\n"; }
