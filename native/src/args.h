// Reading the arguments of an exported function: each reader throws a TypeError into JS and
// returns false when argument `i` is missing or of another type.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

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

inline bool ArgStrings(const Napi::CallbackInfo& info, size_t i, const char* name, std::vector<std::string>& out) {
  if (info.Length() > i && info[i].IsArray()) {
    Napi::Array a = info[i].As<Napi::Array>();
    out.clear();
    out.reserve(a.Length());
    for (uint32_t k = 0; k < a.Length(); k++) {
      Napi::Value v = a.Get(k);
      if (!v.IsString()) break;
      out.push_back(v.As<Napi::String>().Utf8Value());
    }
    if (out.size() == a.Length()) return true;
  }
  Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings").ThrowAsJavaScriptException();
  return false;
}

}  // namespace zonectl
