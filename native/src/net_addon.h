// The network half of the addon's JS surface: registered into the exports by addon.cc.
#pragma once
#include <napi.h>

namespace zonectl {

// netExec(netns: string | null, ops: object[]): Promise<unknown[]>, netnsPin(path): Promise<boolean>,
// nftTableHandle(family, name): Promise<number>, nftAvailable(), nftRun(commands) — see net_addon.cc.
void InitNet(Napi::Env env, Napi::Object exports);

}  // namespace zonectl
