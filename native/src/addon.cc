// The addon's JS surface: each export checks its arguments, then either does one non-blocking
// system call or queues a PromiseWorker. Nothing here decides policy.
#include <napi.h>
#include <sys/mount.h>

#include <thread>

#include "lock.h"
#include "mount.h"
#include "net_addon.h"
#include "pidfd.h"
#include "spawn.h"
#include "sys_error.h"
#include "worker.h"

namespace zonectl {
namespace {

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t& out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string& out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

Napi::Value Throw(Napi::Env env, const SysError& e) {
  ToJsError(env, e).ThrowAsJavaScriptException();
  return env.Undefined();
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

// tryFlock(fd): boolean — an exclusive flock(2) if free now, without waiting.
Napi::Value TryFlock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, "fd", fd)) return info.Env().Undefined();
  SysError e;
  int r = flock_(fd, true, true, e);
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

// spawn(path, argv, stdio): { pid, pidfd, stdin, stdout, stderr } — posix_spawn, no fork of
// this process. stdio: three of 'inherit' | 'null' | 'pipe'; a piped descriptor is returned
// as our end (stdin: write end), the others as -1. The caller closes them all and reaps the
// child with collect.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", path)) return env.Undefined();
  if (info.Length() < 3 || !info[1].IsArray() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "argv and stdio must be arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array a = info[1].As<Napi::Array>();
  std::vector<std::string> argv;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) {
      Napi::TypeError::New(env, "argv must hold strings").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    argv.push_back(v.As<Napi::String>().Utf8Value());
  }
  Napi::Array st = info[2].As<Napi::Array>();
  Stdio stdio[3];
  for (uint32_t i = 0; i < 3; i++) {
    std::string m = i < st.Length() && st.Get(i).IsString() ? st.Get(i).As<Napi::String>().Utf8Value() : "";
    if (m == "inherit") stdio[i] = Stdio::kInherit;
    else if (m == "null") stdio[i] = Stdio::kNull;
    else if (m == "pipe") stdio[i] = Stdio::kPipe;
    else {
      Napi::TypeError::New(env, "stdio must hold three of inherit, null, pipe").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  Spawned s;
  SysError e;
  if (spawn_(path, argv, stdio, s, e) < 0) return Throw(env, e);
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", s.pid);
  o.Set("pidfd", s.pidfd);
  o.Set("stdin", s.fds[0]);
  o.Set("stdout", s.fds[1]);
  o.Set("stderr", s.fds[2]);
  return o;
}

// collect(pidfd, stdin, input, stdout, stderr): a Promise of {code, stdout, stderr} (Buffers)
// once the child has exited and closed its pipes; see collect_. The descriptors (-1: none) are
// the thread's from now on; the pidfd stays the caller's, to close once this settles.
Napi::Value Collect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fds[4];
  const char* names[4] = {"pidfd", "stdin", "stdout", "stderr"};
  const size_t at[4] = {0, 1, 3, 4};
  for (int i = 0; i < 4; i++)
    if (!ArgInt(info, at[i], names[i], fds[i])) return env.Undefined();
  struct Job {
    Napi::Promise::Deferred deferred;
    std::string input;
    Collected result;
    SysError err;
  };
  auto* job = new Job{Napi::Promise::Deferred::New(env), {}, {}, {}};
  if (info[2].IsBuffer()) {
    auto b = info[2].As<Napi::Buffer<char>>();
    job->input.assign(b.Data(), b.Length());
  }
  Napi::Promise promise = job->deferred.Promise();
  // keeps the event loop alive until the thread has called back
  auto tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "zonectl.collect", 0, 1);
  std::thread([tsfn, job, fds]() mutable {
    collect_(fds[0], fds[1], job->input, fds[2], fds[3], job->result, job->err);
    tsfn.BlockingCall(job, [](Napi::Env env, Napi::Function, Job* j) {
      if (j->err.failed()) {
        j->deferred.Reject(ToJsError(env, j->err).Value());
      } else {
        Napi::Object o = Napi::Object::New(env);
        o.Set("code", j->result.code);
        o.Set("stdout", Napi::Buffer<char>::Copy(env, j->result.out.data(), j->result.out.size()));
        o.Set("stderr", Napi::Buffer<char>::Copy(env, j->result.err.data(), j->result.err.size()));
        j->deferred.Resolve(o);
      }
      delete j;
    });
    tsfn.Release();
  }).detach();
  return promise;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("collect", Napi::Function::New(env, Collect));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mountTmpfs", Napi::Function::New(env, MountTmpfs));
  exports.Set("tryFlock", Napi::Function::New(env, TryFlock));
  exports.Set("flock", Napi::Function::New(env, Flock));
  InitNet(env, exports);
  return exports;
}

}  // namespace zonectl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return zonectl::Init(env, exports); }
NODE_API_MODULE(zonectl_native, InitModule)
