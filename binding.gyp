# This package is built with cmake-js from CMakeLists.txt, the one build description.
# binding.gyp is kept (empty of sources) so that tools that look for it, and the node-gyp
# fallback of npm, find a target that hands over to cmake-js instead of a second build recipe.
{
  "targets": [
    {
      "target_name": "ecacface_cmake_js",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_js_build",
          "inputs": ["CMakeLists.txt"],
          "outputs": ["build/Release/ecacface.node"],
          "action": ["node", "scripts/build-native.js"]
        }
      ]
    }
  ]
}
