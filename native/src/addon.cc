// The addon's JS surface: each export checks its arguments, then either does one non-blocking
// system call or queues a PromiseWorker. Nothing here decides policy.
#include <napi.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "args.h"
#include "lock.h"
#include "mount.h"
#include "net_addon.h"
#include "pidfd.h"
#include "spawn.h"
#include "sys_error.h"
#include "worker.h"

namespace zonectl {
namespace {

// One long-lived thread that starts the threads `run` needs. Making a thread maps its stack,
// which takes the process's mmap lock for writing, and while programs are being spawned (their
// vfork children share this address space until they exec) that wait was 5-30 ms: on the main
// thread, it held up the event loop in the middle of an up (measured: ~0.8 ms a zone on 100).
class Starter {
 public:
  static void Post(std::function<void()> f) {
    static Starter* s = new Starter();  // never freed: its thread lives as long as the process
    {
      std::lock_guard<std::mutex> l(s->m_);
      s->q_.push_back(std::move(f));
    }
    s->cv_.notify_one();
  }

 private:
  Starter() { std::thread([this] { Loop(); }).detach(); }
  [[noreturn]] void Loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [this] { return !q_.empty(); });
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

Napi::Value Throw(Napi::Env env, const SysError& e) {
  ToJsError(env, e).ThrowAsJavaScriptException();
  return env.Undefined();
}

// exitNow(code): ends the process at once (_exit), without Node's teardown: joining V8's and
// libuv's threads, freeing the heap, the atexit handlers (OpenSSL's, ICU's), ~1.4 ms of a
// command that has written everything and holds no state in memory worth saving.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  int32_t code;
  if (!ArgInt(info, 0, "code", code)) return info.Env().Undefined();
  _exit(code);
}

// pidfdOpen(pid): number — a CLOEXEC pidfd; the caller closes it.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt(info, 0, "pid", pid)) return info.Env().Undefined();
  SysError e;
  int fd = pidfd_open_(pid, e);
  if (fd < 0) return Throw(info.Env(), e);
  return Napi::Number::New(info.Env(), fd);
}

// pidfdSendSignal(pidfd, signal): undefined
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int32_t fd, sig;
  if (!ArgInt(info, 0, "pidfd", fd) || !ArgInt(info, 1, "signal", sig)) return info.Env().Undefined();
  SysError e;
  if (pidfd_send_signal_(fd, sig, e) < 0) return Throw(info.Env(), e);
  return info.Env().Undefined();
}

// pidfdWait(pidfd, timeoutMs): Promise<boolean> — true when the process exited in time.
Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  int32_t fd, timeout;
  if (!ArgInt(info, 0, "pidfd", fd) || !ArgInt(info, 1, "timeoutMs", timeout)) return info.Env().Undefined();
  return PromiseWorker<int>::Start(
      info.Env(), [fd, timeout](SysError& e) { return pidfd_wait_(fd, timeout, e); },
      [](Napi::Env env, const int& r) { return Napi::Boolean::New(env, r == 1); });
}

// umount(path, detach): Promise<void>
Napi::Value Umount(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgString(info, 0, "path", path)) return info.Env().Undefined();
  int flags = (info.Length() > 1 && info[1].ToBoolean().Value()) ? MNT_DETACH : 0;
  flags |= UMOUNT_NOFOLLOW;
  return PromiseWorker<int>::Start(
      info.Env(), [path, flags](SysError& e) { return umount_(path, flags, e); },
      [](Napi::Env env, const int&) { return env.Undefined(); });
}

// mountTmpfs(target, data): undefined — a tmpfs named zonectl, nosuid and nodev.
Napi::Value MountTmpfs(const Napi::CallbackInfo& info) {
  std::string target, data;
  if (!ArgString(info, 0, "target", target) || !ArgString(info, 1, "data", data)) return info.Env().Undefined();
  SysError e;
  if (mount_tmpfs_(target, data, e) < 0) return Throw(info.Env(), e);
  return info.Env().Undefined();
}

// Reads the whole small file at `path` into `text`: 1, or 0 when it does not exist (ENOENT), or
// -1 with `e` set.
int read_text(const std::string& path, std::string& text, SysError& e) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT ? 0 : e.set("open", path);
  UniqueFd f(fd);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return 1;
    if (errno == EINTR) continue;
    return e.set("read", path);
  }
}

// readText(path): string | null — a whole small file (a control file of cgroupfs or procfs)
// in one call: open, read to the end, close; null when it does not exist (ENOENT). Observe reads
// ~17 of them a zone, where four calls through node:fs each cost more than the kernel's work.
Napi::Value ReadText(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgString(info, 0, "path", path)) return info.Env().Undefined();
  SysError e;
  std::string text;
  int r = read_text(path, text, e);
  if (r < 0) return Throw(info.Env(), e);
  return r == 0 ? info.Env().Null() : Napi::String::New(info.Env(), text);
}

// readTexts(paths): Promise<(string | null)[]> — readText of each path, in order, on a worker
// thread: a zone's ~15 control files in one call, their system calls off the main thread.
Napi::Value ReadTexts(const Napi::CallbackInfo& info) {
  std::vector<std::string> paths;
  if (!ArgStrings(info, 0, "paths", paths)) return info.Env().Undefined();
  using Texts = std::vector<std::pair<bool, std::string>>;
  return PromiseWorker<Texts>::Start(
      info.Env(),
      [paths](SysError& e) {
        Texts out(paths.size());
        for (size_t i = 0; i < paths.size(); i++) {
          int r = read_text(paths[i], out[i].second, e);
          if (r < 0) return Texts{};
          out[i].first = r == 1;
        }
        return out;
      },
      [](Napi::Env env, const Texts& texts) {
        Napi::Array a = Napi::Array::New(env, texts.size());
        for (size_t i = 0; i < texts.size(); i++) a.Set(static_cast<uint32_t>(i), texts[i].first ? Napi::Value(Napi::String::New(env, texts[i].second)) : env.Null());
        return a;
      });
}

// tryFlock(fd, shared): boolean — an exclusive (or shared) flock(2) if free now, without waiting.
Napi::Value TryFlock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, "fd", fd)) return info.Env().Undefined();
  bool exclusive = !(info.Length() > 1 && info[1].ToBoolean().Value());
  SysError e;
  int r = flock_(fd, exclusive, true, e);
  if (r < 0) return Throw(info.Env(), e);
  return Napi::Boolean::New(info.Env(), r == 1);
}

// flock(fd, shared): Promise<void> — an exclusive (or shared) flock(2), waiting on a worker thread.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, "fd", fd)) return info.Env().Undefined();
  bool exclusive = !(info.Length() > 1 && info[1].ToBoolean().Value());
  return PromiseWorker<int>::Start(
      info.Env(), [fd, exclusive](SysError& e) { return flock_(fd, exclusive, false, e); },
      [](Napi::Env env, const int&) { return env.Undefined(); });
}

// run(path, argv, stdio, input, onStdout): { stdin, done } — starts `path` and collects it, both
// on a thread of its own: posix_spawn (no fork of Node; its vfork waits for the child's exec,
// which must not stall the event loop) and then collect_. stdio: three of 'inherit' | 'null' |
// 'pipe'. A piped stdin is fed `input` (a Buffer) by the thread, or without one returned as
// `stdin` (our write end, ours to close); -1 otherwise. `done`: a Promise of {code, stdout,
// stderr} (Buffers) once the child has exited and closed its pipes; it rejects with a SysError
// when the child cannot be started. `onStdout` (optional): called with each chunk of a piped
// stdout as it is read (`done`'s stdout is then empty).
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct Job {
    explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise::Deferred deferred;
    std::string path;
    std::vector<std::string> argv;
    std::vector<int> child = {-1, -1, -1};  // the child's 0, 1, 2 (our 0-2 for inherit)
    bool close_child[3] = {false, false, false};
    int feed = -1, out = -1, err = -1;  // our ends the thread reads and writes
    std::string input;
    Collected result;
    SysError error;
  };
  auto job = std::make_unique<Job>(env);
  if (!ArgString(info, 0, "path", job->path)) return env.Undefined();
  if (!ArgStrings(info, 1, "argv", job->argv)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsArray()) {
    Napi::TypeError::New(env, "stdio must be an array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool feeding = info.Length() > 3 && info[3].IsBuffer();
  if (feeding) {
    auto b = info[3].As<Napi::Buffer<char>>();
    job->input.assign(b.Data(), b.Length());
  }
  Napi::Array st = info[2].As<Napi::Array>();
  UniqueFd ours[3], theirs[3];
  for (uint32_t i = 0; i < 3; i++) {
    std::string m = i < st.Length() && st.Get(i).IsString() ? st.Get(i).As<Napi::String>().Utf8Value() : "";
    if (m == "inherit") {
      job->child[i] = static_cast<int>(i);
    } else if (m == "pipe") {
      int p[2];
      if (pipe2(p, O_CLOEXEC) < 0) {
        SysError e;
        e.set("pipe2", job->path);
        return Throw(env, e);
      }
      // stdin: the child reads, we write; stdout and stderr the other way round
      ours[i].reset(i == 0 ? p[1] : p[0]);
      theirs[i].reset(i == 0 ? p[0] : p[1]);
    } else if (m != "null") {
      Napi::TypeError::New(env, "stdio must hold three of inherit, null, pipe").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  int held = -1;
  if (ours[0].valid()) {
    if (feeding) job->feed = ours[0].release();
    else held = ours[0].release();
  }
  job->out = ours[1].release();
  job->err = ours[2].release();
  for (int i = 0; i < 3; i++) {
    if (!theirs[i].valid()) continue;
    job->child[i] = theirs[i].release();
    job->close_child[i] = true;
  }
  Napi::Promise promise = job->deferred.Promise();
  // keeps the event loop alive until the thread has called back; calls onStdout with each chunk
  bool streaming = info.Length() > 4 && info[4].IsFunction();
  Napi::Function onOut = streaming ? info[4].As<Napi::Function>() : Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  auto tsfn = Napi::ThreadSafeFunction::New(env, onOut, "zonectl.run", 0, 1);
  // its own thread (a helper waits there for zonectl's go), started off the main thread
  Job* j = job.release();
  Starter::Post([tsfn, j, streaming]() mutable {
    std::thread([tsfn, j, streaming]() mutable {
      Spawned s;
      int rc = spawn_(j->path, j->argv, j->child, s, j->error);
      for (int i = 0; i < 3; i++)
        if (j->close_child[i]) ::close(j->child[i]);
      if (rc == 0) {
        std::function<void(const char*, size_t)> on_out;
        if (streaming)
          on_out = [&tsfn](const char* data, size_t len) {
            tsfn.BlockingCall(new std::string(data, len), [](Napi::Env env, Napi::Function fn, std::string* chunk) {
              fn.Call({Napi::Buffer<char>::Copy(env, chunk->data(), chunk->size())});
              delete chunk;
            });
          };
        collect_(s.pidfd, j->feed, j->input, j->out, j->err, j->result, j->error, on_out);
        ::close(s.pidfd);
      } else {
        for (int fd : {j->feed, j->out, j->err})
          if (fd >= 0) ::close(fd);
      }
      tsfn.BlockingCall(j, [](Napi::Env env, Napi::Function, Job* job) {
        if (job->error.failed()) {
          job->deferred.Reject(ToJsError(env, job->error).Value());
        } else {
          Napi::Object o = Napi::Object::New(env);
          o.Set("code", job->result.code);
          o.Set("stdout", Napi::Buffer<char>::Copy(env, job->result.out.data(), job->result.out.size()));
          o.Set("stderr", Napi::Buffer<char>::Copy(env, job->result.err.data(), job->result.err.size()));
          job->deferred.Resolve(o);
        }
        delete job;
      });
      tsfn.Release();
    }).detach();
  });
  Napi::Object r = Napi::Object::New(env);
  r.Set("stdin", held);
  r.Set("done", promise);
  return r;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mountTmpfs", Napi::Function::New(env, MountTmpfs));
  exports.Set("readText", Napi::Function::New(env, ReadText));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
  exports.Set("readTexts", Napi::Function::New(env, ReadTexts));
  exports.Set("tryFlock", Napi::Function::New(env, TryFlock));
  exports.Set("flock", Napi::Function::New(env, Flock));
  InitNet(env, exports);
  return exports;
}

}  // namespace zonectl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return zonectl::Init(env, exports); }
NODE_API_MODULE(zonectl_native, InitModule)
