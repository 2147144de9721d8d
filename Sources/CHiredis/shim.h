// hiredis (Debian's libhiredis-dev): Herald uses its RESP reader and its command formatter
// only; the sockets are SwiftNIO's.
#include <hiredis/hiredis.h>
