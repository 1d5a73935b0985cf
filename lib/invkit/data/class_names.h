// Class names: the built-in lists of the data sets convert knows, and lists
// read from a file (one name per line).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "invkit/io/text.h"

namespace invkit {

// The names `builtin_class_names` knows: fashion-mnist, mnist, cifar10,
// cifar100 (the 100 fine labels), cifar100-coarse (the 20 superclasses).
std::vector<std::string> builtin_class_lists();

// A built-in list by name; nullopt when there is none of that name.
std::optional<std::vector<std::string>> builtin_class_names(const std::string& name);

// One name per line, read as io::read_text_lines does (a byte-order mark
// dropped, LF, CRLF or CR line ends, UTF-16 with a byte-order mark
// converted; bytes that are not UTF-8 an Error naming the line and offset
// unless `encoding` is latin1). Trailing spaces and tabs are dropped, blank
// lines skipped, and duplicate names are an Error naming the file and line.
std::vector<std::string> read_class_names_file(const std::string& path,
                                               io::NameEncoding encoding = io::NameEncoding::utf8);

// The value of --class-names: a built-in list name, else a file.
std::vector<std::string> class_names_from_arg(const std::string& arg,
                                              io::NameEncoding encoding = io::NameEncoding::utf8);

// The names an IDX set gets without --class-names: Fashion-MNIST's when the
// images' path contains "fashion" (any case); "0".."9" when it contains
// "mnist" (MNIST, KMNIST, EMNIST digits) and no label exceeds 9; otherwise
// "0".."K-1" with K = max_label + 1.
std::vector<std::string> default_idx_class_names(const std::string& images_path, int64_t max_label);

// Throws Error unless `names` has exactly `num_classes` entries; `what`
// names the list in the message (e.g. "--class-names cifar10").
void check_class_count(const std::vector<std::string>& names, int64_t num_classes, const std::string& what);

}  // namespace invkit
