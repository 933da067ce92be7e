Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  T.out("set", Process.flag(:trap_exit, true))
  T.out("set", Process.flag(:trap_exit, true))
  T.out("set", Process.flag(:trap_exit, false))
  T.out("info", T.info(self(), :trap_exit))
end)
T.done()
