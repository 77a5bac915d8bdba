{
  "targets": [
    {
      "target_name": "tce_native",
      "sources": [
        "native/src/binding.cc",
        "native/src/core/answer_lines.cc",
        "native/src/core/http_response.cc",
        "native/src/core/json_value.cc",
        "native/src/core/lz4_block.cc",
        "native/src/core/sse_event.cc",
        "native/src/core/stream.cc",
        "native/src/core/tool_calls.cc",
        "native/src/core/utf8.cc",
        "native/src/io/batch_recv.cc",
        "native/src/io/io_loop.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/src"
      ],
      "defines": [
        "NAPI_VERSION=9",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      }
    }
  ]
}
