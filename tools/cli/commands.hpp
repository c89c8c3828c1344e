#pragma once

#include <string>
#include <vector>

namespace facekit_cli {

int cmd_convert(const std::vector<std::string>& args);
int cmd_detect(const std::vector<std::string>& args);
int cmd_landmarks(const std::vector<std::string>& args);
int cmd_track(const std::vector<std::string>& args);
int cmd_profile(const std::vector<std::string>& args);
int cmd_devices(const std::vector<std::string>& args);

}  // namespace facekit_cli
