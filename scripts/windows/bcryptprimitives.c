/*
 * bcryptprimitives.dll replacement for running Go Windows test binaries
 * under Wine.
 *
 * Since Go 1.24 the Windows runtime loads bcryptprimitives.dll at startup
 * and calls ProcessPrng for all of its random numbers (map seeds,
 * crypto/rand, ...). Wine 8.0, the version in Debian 12, has no
 * bcryptprimitives.dll at all, so every Go binary dies at startup with
 * "bcryptprimitives.dll not found". This tiny DLL exports ProcessPrng and
 * fills the buffer with RtlGenRandom (advapi32!SystemFunction036), which
 * Wine does implement. scripts/windows/setup-wine.sh builds it with
 * mingw-w64 and installs it into the project's Wine prefix.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under the name SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

/*
 * BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData)
 * Documented to always return TRUE; it cannot fail on Windows. Here a
 * failure of RtlGenRandom is reported as FALSE, which makes the Go runtime
 * abort loudly instead of running with a buffer that is not random.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    while (cbData > 0) {
        /* RtlGenRandom takes a ULONG length; feed large requests in chunks. */
        ULONG chunk = cbData > 0x40000000 ? 0x40000000 : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE hinst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(hinst);
    return TRUE;
}
