package crash

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const ballastName = "ballast"

// tmpfs is a small tmpfs mounted in a private mount namespace held by a
// sleeping child (unshare(1); a user namespace too when not root), so no
// mount is visible or left on the host. smppd and the harness reach it
// through /proc/<holder>/root, which opens paths in the holder's mounts.
type tmpfs struct {
	holder *exec.Cmd
	path   string // the mount point as the harness and smppd see it
}

// ErrNoTmpfs means a tmpfs could not be mounted here: no unshare(1), or
// neither root nor unprivileged user namespaces.
var ErrNoTmpfs = errors.New("crash: cannot mount a private tmpfs")

// mountTmpfs mounts a tmpfs of size bytes at dir (an absolute path,
// created here) inside a new mount namespace.
func mountTmpfs(dir string, size int64, life time.Duration) (*tmpfs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoTmpfs, err)
	}
	args := []string{"--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	// unshare execs sh, which execs sleep: the PID stays the holder's.
	script := `mount -t tmpfs -o size="$1" smppcrash "$2" && echo mounted && exec sleep "$3"`
	args = append(args, "sh", "-c", script, "sh", strconv.FormatInt(size, 10), dir, strconv.Itoa(int(life.Seconds())+1))
	cmd := exec.Command(unshare, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoTmpfs, err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		if l == "mounted" {
			return &tmpfs{holder: cmd, path: filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "root", dir)}, nil
		}
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("%w: %s", ErrNoTmpfs, strings.TrimSpace(stderr.String()))
}

// fill writes a ballast file until the file system is full and returns
// its size.
func (t *tmpfs) fill() (int64, error) {
	f, err := os.OpenFile(filepath.Join(t.path, ballastName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			w, err := f.Write(buf)
			n += int64(w)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// free removes the ballast.
func (t *tmpfs) free() error { return os.Remove(filepath.Join(t.path, ballastName)) }

// close ends the holder (by its PID); the tmpfs goes with its namespace
// once smppd has closed its files there.
func (t *tmpfs) close() {
	_ = t.holder.Process.Kill()
	_ = t.holder.Wait()
}
