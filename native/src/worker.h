// A Napi::AsyncWorker that settles a Promise: Execute() runs a plain function filling a SysError,
// OnOK() resolves with the result or rejects with the one JS error conversion.
#pragma once
#include <napi.h>

#include <functional>

#include "sys_error.h"

namespace zonectl {

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result(SysError&)>;
  using ToJs = std::function<Napi::Value(Napi::Env, const Result&)>;

  static Napi::Value Start(Napi::Env env, Work work, ToJs toJs) {
    auto* w = new PromiseWorker(env, std::move(work), std::move(toJs));
    Napi::Promise promise = w->deferred_.Promise();
    w->Queue();
    return promise;
  }

 protected:
  void Execute() override { result_ = work_(err_); }  // no Napi calls here
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (err_.failed()) {
      deferred_.Reject(ToJsError(Env(), err_).Value());
    } else {
      deferred_.Resolve(toJs_(Env(), result_));
    }
  }

 private:
  PromiseWorker(Napi::Env env, Work work, ToJs toJs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), toJs_(std::move(toJs)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs toJs_;
  SysError err_;
  Result result_{};
};

}  // namespace zonectl
