// The addon's JS surface: each export checks its arguments, then either does one non-blocking
// system call or queues a PromiseWorker. Nothing here decides policy.
#include <napi.h>
#include <sys/mount.h>

#include "lock.h"
#include "mount.h"
#include "net_addon.h"
#include "pidfd.h"
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

// tryFlock(fd): boolean — an exclusive flock(2) if free now, without waiting.
Napi::Value TryFlock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, "fd", fd)) return info.Env().Undefined();
  SysError e;
  int r = flock_(fd, true, true, e);
  if (r < 0) return Throw(info.Env(), e);
  return Napi::Boolean::New(info.Env(), r == 1);
}

// flock(fd): Promise<void> — an exclusive flock(2), waiting on a worker thread.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, "fd", fd)) return info.Env().Undefined();
  return PromiseWorker<int>::Start(
      info.Env(), [fd](SysError& e) { return flock_(fd, true, false, e); },
      [](Napi::Env env, const int&) { return env.Undefined(); });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("tryFlock", Napi::Function::New(env, TryFlock));
  exports.Set("flock", Napi::Function::New(env, Flock));
  InitNet(env, exports);
  return exports;
}

}  // namespace zonectl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return zonectl::Init(env, exports); }
NODE_API_MODULE(zonectl_native, InitModule)
