// Reads the files torch.save writes (the zip format of PyTorch >= 1.6) the
// way torch.load(weights_only=True) does: a pickle that may build only
// dicts (OrderedDict too), lists, tuples, strings, numbers, booleans, None
// and tensors, whose bytes come from the archive's data/ records. Any other
// Python object is refused, so no file can make the reader run code.
// LibTorch's own torch::pickle_load cannot read a state dict, because
// torch.save writes one as a collections.OrderedDict.
#pragma once
#include <ATen/core/ivalue.h>

#include <string>

namespace invkit::io {

// The object a torch.save file holds, as an IValue: GenericDict (keys
// strings, ints or ...), GenericList, Tuple, String, Int, Double, Bool, None
// or Tensor (CPU, the saved dtype, sizes, strides and storage sharing).
// A file that is not such a zip archive, a pickle opcode or class outside
// that set ("X.Y", named in the message), or a reference to a record the
// archive lacks is an Error naming the file.
c10::IValue read_torch_save(const std::string& path);

}  // namespace invkit::io
