// Precompiled header: the heavy, stable headers every torch file pulls in.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <CLI/CLI.hpp>
#include <string>
#include <vector>
#include <map>
#include <memory>
