{
  "targets": [
    {
      "target_name": "zonectl_native",
      "sources": ["src/addon.cc", "src/sys_error.cc", "src/pidfd.cc", "src/spawn.cc", "src/mount.cc", "src/lock.cc",
                  "src/netlink.cc", "src/net_ops.cc", "src/netns.cc", "src/nft.cc", "src/net_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"]
    },
    {
      "target_name": "zonectl_map",
      "sources": ["src/map.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "zonectl-helper",
      "type": "executable",
      "sources": [
        "helper/main.c", "helper/err.c", "helper/spec.c", "helper/proc.c",
        "helper/rootfs.c", "helper/caps.c", "helper/zone.c", "helper/init.c",
        "helper/supervise.c", "helper/log.c", "helper/record.c", "helper/exec.c", "helper/seccomp.c",
        "helper/userns.c"
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2", "-fno-strict-aliasing"],
      "cflags!": ["-fPIC"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "zonectl-init",
      "type": "executable",
      "conditions": [["target_arch not in ('x64', 'arm64')", {"type": "none"}]],
      "sources": ["helper/zinit.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2", "-ffreestanding", "-fno-stack-protector",
                 "-fno-asynchronous-unwind-tables", "-fno-pie"],
      "cflags!": ["-fPIC", "-pthread"],
      "ldflags": ["-static", "-nostdlib", "-nostartfiles", "-no-pie"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "libraries!": ["-lpthread"]
    }
  ]
}
