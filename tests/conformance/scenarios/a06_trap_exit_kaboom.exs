Code.require_file("../T.exs", __DIR__)
defmodule Crashy do
  def run(t) do
    Process.flag(:trap_exit, true)
    child = spawn_link(Crashy, :splode, [])
    t.out("child", child)
    receive do
      {signal, pid, msg} ->
        t.out("signal", signal)
        t.out("pid", pid)
        t.out("msg", msg)
    end
  end

  def splode, do: exit(:kaboom)
end
T.run(fn -> Crashy.run(T) end)
T.done()
