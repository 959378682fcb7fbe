// Reading the arguments of an exported function: each reader throws a TypeError into JS and
// returns false when argument `i` is missing or of another type.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace zonectl {

inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t& out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

inline bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string& out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

}  // namespace zonectl
