// The network half of the addon's JS surface: registered into the exports by addon.cc.
#pragma once
#include <napi.h>

namespace zonectl {

// netExec(netns: string | null, ops: object[]): Promise<unknown[]> — see net_addon.cc.
void InitNet(Napi::Env env, Napi::Object exports);

}  // namespace zonectl
