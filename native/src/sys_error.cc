#include "sys_error.h"

#include <cstring>

namespace zonectl {

Napi::Error ToJsError(Napi::Env env, const SysError& e) {
  const char* name = strerrorname_np(e.err);
  std::string code = name != nullptr ? name : "E" + std::to_string(e.err);
  std::string msg = e.op;
  if (!e.object.empty()) msg += " " + e.object;
  msg += ": " + code + " (" + std::strerror(e.err) + ")";
  Napi::Error error = Napi::Error::New(env, msg);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -e.err));  // negative, as in Node's own SystemErrors
  error.Set("syscall", Napi::String::New(env, e.op));
  if (!e.object.empty()) error.Set(e.objectKey, Napi::String::New(env, e.object));
  return error;
}

}  // namespace zonectl
