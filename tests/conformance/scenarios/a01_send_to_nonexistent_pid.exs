Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  pid = :c.pid(0, 999, 0)
  T.out("pid", pid)
  T.out("info", Process.info(pid))
  T.out("send", send(pid, :hello))
end)
T.done()
